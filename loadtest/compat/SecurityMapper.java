/*
 * Permissive stand-in for XStream's com.thoughtworks.xstream.mapper.SecurityMapper, used only to run
 * Debian's JMeter 2.13 on a current Java.
 *
 * Debian ships JMeter 2.13 with a current XStream (1.4.18+), whose SecurityMapper denies every type
 * that is not explicitly allowed. JMeter 2.13 predates that allow-list and registers no permissions,
 * so loading any plan fails with "ForbiddenClassException ... ScriptWrapper". This class keeps the
 * public API of the original and lets every type through; it is compiled by loadtest/jmeter.py and
 * put ahead of the real xstream.jar on the classpath of that one JMeter process. JMeter only reads
 * our own plan (loadtest/punches.jmx) with it, never untrusted XML.
 */
package com.thoughtworks.xstream.mapper;

import com.thoughtworks.xstream.security.TypePermission;

public class SecurityMapper extends MapperWrapper {

    public SecurityMapper(final Mapper wrapped) {
        super(wrapped);
    }

    public SecurityMapper(final Mapper wrapped, final TypePermission[] permissions) {
        super(wrapped);
    }

    /** Permissions are accepted and ignored: every type is allowed. */
    public void addPermission(final TypePermission permission) {
        // intentionally empty
    }

    public Class realClass(final String elementName) {
        return super.realClass(elementName);
    }
}
