#!/usr/bin/env node
// cdk-nag's AwsSolutions rules over a synthesized template. The .NET cdk-nag package is not available,
// so the template is loaded into a throwaway aws-cdk-lib app through CfnInclude and checked there.
// Suppressions are not written here: each lives beside the C# code that makes the choice, as the
// resource's `cdk_nag` metadata, with its reason (infra/EcsReflex.Infra/Nag.cs).
//
//   node infra/nag/check.js cdk.out/EcsReflex.template.json
//
// Exit code 0 when no unsuppressed error remains, 1 otherwise, 2 for bad usage.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { App, Aspects, BootstraplessSynthesizer, Stack } = require('aws-cdk-lib');
const { CfnInclude } = require('aws-cdk-lib/cloudformation-include');
const { AwsSolutionsChecks } = require('cdk-nag');

function main(argv) {
  const templateFile = argv[2];
  if (!templateFile || !fs.existsSync(templateFile)) {
    console.error('usage: node infra/nag/check.js TEMPLATE.json (run `npx cdk synth` first; it writes cdk.out/EcsReflex.template.json)');
    return 2;
  }
  const template = JSON.parse(fs.readFileSync(templateFile, 'utf8'));

  // Every suppression must say why: list them, and refuse one without a reason.
  let suppressions = 0;
  let unexplained = 0;
  for (const [id, resource] of Object.entries(template.Resources || {})) {
    const rules = resource.Metadata?.cdk_nag?.rules_to_suppress || [];
    for (const rule of rules) {
      suppressions++;
      if (typeof rule.reason !== 'string' || rule.reason.trim().length < 10) {
        unexplained++;
        console.error(`suppression of ${rule.id} on ${id} has no reason`);
      }
    }
  }

  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'ecsreflex-nag-'));
  try {
    // The included template brings its own BootstrapVersion parameter and CDKMetadata: the host stack adds neither.
    const app = new App({ outdir, analyticsReporting: false });
    const stack = new Stack(app, 'Nag', { synthesizer: new BootstraplessSynthesizer() });
    new CfnInclude(stack, 'Template', { templateFile });
    Aspects.of(app).add(new AwsSolutionsChecks({ verbose: true }));
    const assembly = app.synth();

    const messages = assembly.getStackArtifact(stack.artifactId).messages;
    const errors = messages.filter((m) => m.level === 'error');
    const warnings = messages.filter((m) => m.level === 'warning');
    for (const m of warnings) console.log(`warning ${m.id}: ${firstLine(m.entry.data)}`);
    for (const m of errors) console.log(`ERROR   ${m.id}: ${firstLine(m.entry.data)}`);
    console.log(`cdk-nag AwsSolutions on ${templateFile}: ${errors.length} unsuppressed error(s), ${warnings.length} warning(s), ${suppressions} suppression(s) with reasons`);
    return errors.length === 0 && unexplained === 0 ? 0 : 1;
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

function firstLine(data) {
  return String(data).split('\n')[0];
}

process.exitCode = main(process.argv);
