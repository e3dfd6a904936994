'use strict';

// Ponto local plugin: put the web clock (clock/) into the stack's ClockBucket after each deploy, then
// invalidate the CloudFront distribution that serves it, so every device gets the new version at its
// next start (its service worker revalidates; index.html and sw.js are never cached by CloudFront).
//
// Reads the bucket and the distribution from the stack's outputs (ClockBucketName, ClockDistributionId).

const fs = require('fs');
const path = require('path');

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
};
const ALWAYS_REVALIDATE = new Set(['index.html', 'sw.js', 'manifest.webmanifest']);

function files(root, folder = '') {
  return fs.readdirSync(path.join(root, folder), { withFileTypes: true }).flatMap((entry) => {
    const relative = path.posix.join(folder, entry.name);
    return entry.isDirectory() ? files(root, relative) : [relative];
  });
}

class ClockUpload {
  constructor(serverless) {
    this.serverless = serverless;
    this.provider = serverless.getProvider('aws');
    this.hooks = { 'after:deploy:deploy': () => this.upload() };
  }

  async upload() {
    const root = path.join(this.serverless.config.servicePath, 'clock');
    const stack = await this.provider.request('CloudFormation', 'describeStacks', {
      StackName: this.provider.naming.getStackName(),
    });
    const outputs = Object.fromEntries(stack.Stacks[0].Outputs.map((o) => [o.OutputKey, o.OutputValue]));
    const bucket = outputs.ClockBucketName;
    for (const key of files(root)) {
      await this.provider.request('S3', 'putObject', {
        Bucket: bucket,
        Key: key,
        Body: fs.readFileSync(path.join(root, key)),
        ContentType: TYPES[path.extname(key)] || 'application/octet-stream',
        CacheControl: ALWAYS_REVALIDATE.has(key) ? 'no-cache' : 'public, max-age=300',
      });
    }
    await this.provider.request('CloudFront', 'createInvalidation', {
      DistributionId: outputs.ClockDistributionId,
      InvalidationBatch: { CallerReference: `ponto-${Date.now()}`, Paths: { Quantity: 1, Items: ['/*'] } },
    });
    this.serverless.cli.log(`web clock: ${files(root).length} files uploaded; ${outputs.ClockUrl}`);
  }
}

module.exports = ClockUpload;
