/**
 * The layer map of nicmatrix, checked by `npm test` (like Playwright's DEPS.list files).
 * Imports only go down:
 *
 *   cli       harness/cli/                                   the commands
 *   runner    harness/run/, harness/lab/                     plans, runs targets, writes the record
 *   checks    harness/checks/                                plan → round → pure judge, per family
 *   drivers   drivers/                                       one module per kind of DUT
 *   agent     harness/agent/                                 the RPC and the agent's primitive actions
 *   platform  harness/sys/                                   syscalls, processes, cleanup, paths, the cache directory,
 *                                                            the prerequisite table (doctor, sparc64 guest)
 *   core      harness/codec/ (frames, checksum maths, random, pcap, the harness's door to the error class, and
 *             codec/zc/: the zero-copy byte oracle the agent and the zc judges share), the error class, the record
 *             types, the verdict order, the agent protocol's types: pure, no I/O
 *   harness/ itself holds no file: a folder counts its subfolders' imports, so a file there would tie harness/ and
 *   drivers/ into one folder cycle.
 *   matrix/, reports/ beside the core: they never import harness/ or drivers/
 *   ci/ may use anything but test/; test/ may use anything.
 *
 * Docs: docs/architecture.md. No violation is baselined and no folder is exempt: any upward import, module cycle
 * or folder cycle fails `npm test`.
 */
const CORE = '^(harness/codec/|harness/agent/protocol\\.ts$|matrix/(errors|record|verdict)\\.ts$)';
const PLATFORM = '^harness/sys/';
const AGENT = '^harness/agent/';
const DRIVERS = '^drivers/';
const CHECKS = '^harness/checks/';
const RUNNER = '^harness/(run|lab)/';
const CLI = '^harness/cli/';

/** Everything above a layer, as one alternation. */
const above = (...layers) => layers.join('|');

const layerRule = (name, from, to, comment) => ({
  name,
  severity: 'error',
  comment,
  from: { path: from },
  to: { path: to, pathNot: CORE },
});

module.exports = {
  forbidden: [
    {
      ...layerRule(
        'core-is-the-bottom',
        CORE,
        above(PLATFORM, AGENT, DRIVERS, CHECKS, RUNNER, CLI, '^matrix/', '^reports/'),
        'the pure core imports only itself',
      ),
      to: { path: above(PLATFORM, AGENT, DRIVERS, CHECKS, RUNNER, CLI, '^matrix/', '^reports/'), pathNot: CORE },
    },
    {
      name: 'core-does-no-io',
      severity: 'error',
      comment: 'pure modules do no I/O: no file system, processes, sockets or native calls',
      from: { path: CORE },
      to: {
        path: '^(fs|child_process|net|dgram|worker_threads)$|^node_modules/(koffi|execa|better-sqlite3)/',
        dependencyTypesNot: ['type-only'],
      },
    },
    layerRule(
      'platform-under-agent',
      PLATFORM,
      above(AGENT, DRIVERS, CHECKS, RUNNER, CLI),
      'syscalls and process helpers know nothing of agents, drivers or checks',
    ),
    layerRule(
      'agent-under-drivers',
      AGENT,
      above(DRIVERS, CHECKS, RUNNER, CLI),
      "the agent's primitive actions know nothing of DUT kinds, checks or the runner",
    ),
    layerRule(
      'drivers-under-checks',
      DRIVERS,
      above(CHECKS, RUNNER, CLI),
      'a driver brings a link up; it knows no check, runner or command',
    ),
    layerRule('checks-under-runner', CHECKS, above(RUNNER, CLI), 'a check family is run by the runner; it knows no command'),
    layerRule('runner-under-cli', RUNNER, CLI, 'the runner is called by the commands, never the other way'),
    layerRule(
      'matrix-beside-core',
      '^matrix/',
      '^(harness|drivers|reports)/',
      'the record, store and aggregation never reach into the harness or the reports',
    ),
    layerRule('reports-beside-core', '^reports/', '^(harness|drivers)/', 'reports render the store; they never reach into the harness'),
    layerRule('ci-not-test', '^ci/', '^test/', 'CI scripts ship; tests do not'),
    {
      name: 'no-module-cycles',
      severity: 'error',
      comment: 'no import cycle between modules',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-folder-cycles',
      severity: 'error',
      scope: 'folder',
      comment: 'no import cycle between folders: a shared piece moves down into the layer both may import',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules|out)/' },
    tsConfig: { fileName: 'tsconfig.check.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
