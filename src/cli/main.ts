import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config/config.ts';
import { closestMatch } from './did-you-mean.ts';

const USAGE = `Usage: postura <command> [options]

Commands:
  serve                 Run the API (with its workers) on HOST:PORT
  worker                Run analyses only (no HTTP), taking jobs from the shared queue
  migrate               Apply pending database migrations and exit
  analyze <file>        Analyse a photo or video locally, no server needed
                          [--model cx] [--view left|right|front|back|auto] [--profile stance|upright]
                          [--json] [--overlay out.png|out.mp4] [--plots DIR] [--csv F] [--trc F] [--mot F]
                          [--frame-step 2] [--workers N] (postura analyze --help for all options)
  analyze <folder | "glob" | file...> --out DIR
                        Analyse a batch: a folder of results per file, and DIR/summary.csv
  model-server          Serve pose models over WebSocket (cx on 8894, gy on 8893)
                          [--models cx,gy] [--port N] [--workers N] [--host H]
  create-admin          Create an admin account, or promote an existing one
                          --email <email> [--password <pw> | env POSTURA_ADMIN_PASSWORD] [--name <name>]
  help                  Show this text

Configuration comes from the environment; see README.md.`;

const COMMANDS = ['serve', 'worker', 'migrate', 'analyze', 'model-server', 'create-admin', 'help'];

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(`${USAGE}\n`);
    return command ? 0 : 1;
  }
  // Each command loads only its own modules: `analyze` on a long video must not carry the web server's memory.
  // analyze needs neither a database nor a secret: it runs before configuration is read.
  if (command === 'analyze') {
    const { runAnalyzeCommand } = await import('./analyze.command.ts');
    return runAnalyzeCommand(rest, { stdout: process.stdout, stderr: process.stderr });
  }
  if (!COMMANDS.includes(command)) {
    // Before the configuration is read: a typo must not surface as a configuration problem.
    const near = closestMatch(command, COMMANDS);
    process.stderr.write(near ? `Unknown command "${command}": did you mean ${near}? (postura help lists the commands)\n` : `Unknown command "${command}".\n\n${USAGE}\n`);
    return 1;
  }
  const config = loadConfig(process.env);
  switch (command) {
    case 'model-server':
      return (await import('./model-server.command.ts')).runModelServer(config, rest);
    case 'worker':
      return (await import('./worker.command.ts')).runWorker(config);
    case 'serve':
      return (await import('./serve.command.ts')).runServe(config);
    case 'migrate':
      return (await import('./migrate.command.ts')).runMigrate(config);
    case 'create-admin': {
      const { runCreateAdmin } = await import('./create-admin.command.ts');
      const { values } = parseArgs({
        args: rest,
        options: { email: { type: 'string' }, password: { type: 'string' }, name: { type: 'string' } },
      });
      return runCreateAdmin(config, {
        email: values.email,
        password: values.password ?? process.env.POSTURA_ADMIN_PASSWORD,
        name: values.name,
      });
    }
    default:
      throw new Error(`command ${command} is listed but has no handler`);
  }
}

/** Services: when one returns it has closed all it owns, and a library's leftover timer must not keep the process. */
const SERVICES = new Set(['serve', 'worker', 'model-server']);

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== 0) process.exitCode = code;
    // pg-boss's stop leaves a 10 s timer behind: without this, a quick graceful stop still took 10 s to exit.
    if (SERVICES.has(process.argv[2] ?? '')) setImmediate(() => process.exit(code));
  },
  (error: unknown) => {
    if (error instanceof ConfigError) process.stderr.write(`${error.message}\n`);
    else process.stderr.write(`postura: ${(error as Error).message}\n`);
    process.exitCode = 1;
  },
);
