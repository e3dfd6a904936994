'use strict';

// Ponto local plugin: re-deploy the REST API whenever its definition changes.
//
// CloudFormation only creates an AWS::ApiGateway::Deployment when the resource is new, so editing the
// API contract (ponto/contract/openapi.json, inlined as the RestApi Body) would update the RestApi
// but leave the stage serving the old snapshot. This plugin renames the Deployment's logical id to
// <base><hash>, where the hash covers the RestApi Body (and the Deployment's own properties), and
// rewrites every Ref / Fn::GetAtt / DependsOn / Fn::Sub pointing at it. A changed contract therefore
// yields a new Deployment, the Stage moves to it, and CloudFormation deletes the old one.
//
// Configuration (serverless.yml):
//   custom:
//     apiDeploymentHash:
//       restApi: PunchApi             # logical id of the AWS::ApiGateway::RestApi
//       deployment: PunchApiDeployment  # logical id of the AWS::ApiGateway::Deployment to rename

const crypto = require('crypto');

// Stable JSON: object keys sorted, so the hash depends only on content.
function canonical(value) {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value === undefined ? null : value);
}

function renameReferences(node, from, to) {
  if (Array.isArray(node)) return node.map((item) => renameReferences(item, from, to));
  if (!node || typeof node !== 'object') return node;
  const out = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === 'Ref' && value === from) {
      out[key] = to;
    } else if (key === 'Fn::GetAtt' && Array.isArray(value) && value[0] === from) {
      out[key] = [to, ...value.slice(1)];
    } else if (key === 'Fn::GetAtt' && typeof value === 'string' && value.split('.')[0] === from) {
      out[key] = [to, ...value.split('.').slice(1)].join('.');
    } else if (key === 'Fn::Sub') {
      const pattern = new RegExp(`\\$\\{${from}(\\.[^}]*)?\\}`, 'g');
      const fix = (s) => (typeof s === 'string' ? s.replace(pattern, (_m, att) => `\${${to}${att || ''}}`) : s);
      out[key] = Array.isArray(value)
        ? [fix(value[0]), renameReferences(value[1], from, to)]
        : fix(value);
    } else {
      out[key] = renameReferences(value, from, to);
    }
  }
  return out;
}

class ApiDeploymentHash {
  constructor(serverless, _options, utils) {
    this.serverless = serverless;
    this.log = (utils && utils.log) || ((msg) => serverless.cli.log(msg));
    const { configSchemaHandler } = serverless;
    if (configSchemaHandler && configSchemaHandler.defineCustomProperties) {
      configSchemaHandler.defineCustomProperties({
        type: 'object',
        properties: {
          apiDeploymentHash: {
            type: 'object',
            properties: { restApi: { type: 'string' }, deployment: { type: 'string' } },
            required: ['restApi', 'deployment'],
            additionalProperties: false,
          },
        },
      });
    }
    this.hooks = {
      // After resources: {...} of serverless.yml are merged into the compiled template,
      // before it is validated and written to .serverless/.
      'after:aws:package:finalize:mergeCustomProviderResources': () => this.rename(),
    };
  }

  rename() {
    const config = (this.serverless.service.custom || {}).apiDeploymentHash;
    if (!config) return;
    const template = this.serverless.service.provider.compiledCloudFormationTemplate;
    const resources = template.Resources || {};
    const restApi = resources[config.restApi];
    const deployment = resources[config.deployment];
    if (!restApi || restApi.Type !== 'AWS::ApiGateway::RestApi') {
      throw new this.serverless.classes.Error(
        `apiDeploymentHash: ${config.restApi} is not an AWS::ApiGateway::RestApi in the template`
      );
    }
    if (!deployment || deployment.Type !== 'AWS::ApiGateway::Deployment') {
      throw new this.serverless.classes.Error(
        `apiDeploymentHash: ${config.deployment} is not an AWS::ApiGateway::Deployment in the template`
      );
    }
    const hash = crypto
      .createHash('sha256')
      .update(canonical({ restApi: restApi.Properties, deployment: deployment.Properties }))
      .digest('hex')
      .slice(0, 12);
    const newId = `${config.deployment}${hash}`;
    delete resources[config.deployment];
    const rewritten = renameReferences(template, config.deployment, newId);
    for (const res of Object.values(rewritten.Resources || {})) {
      if (typeof res.DependsOn === 'string' && res.DependsOn === config.deployment) res.DependsOn = newId;
      if (Array.isArray(res.DependsOn)) {
        res.DependsOn = res.DependsOn.map((d) => (d === config.deployment ? newId : d));
      }
    }
    rewritten.Resources[newId] = deployment;
    Object.assign(template, rewritten);
    this.log(`apiDeploymentHash: ${config.deployment} -> ${newId}`);
  }
}

module.exports = ApiDeploymentHash;
module.exports.canonical = canonical;
module.exports.renameReferences = renameReferences;
