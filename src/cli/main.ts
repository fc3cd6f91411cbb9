import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config/config.ts';
import { runCreateAdmin } from './create-admin.command.ts';
import { runMigrate } from './migrate.command.ts';
import { runServe } from './serve.command.ts';

const USAGE = `Usage: postura <command> [options]

Commands:
  serve                 Run the API (with its workers) on HOST:PORT
  migrate               Apply pending database migrations and exit
  create-admin          Create an admin account, or promote an existing one
                          --email <email> [--password <pw> | env POSTURA_ADMIN_PASSWORD] [--name <name>]
  help                  Show this text

Configuration comes from the environment; see README.md.`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(`${USAGE}\n`);
    return command ? 0 : 1;
  }
  const config = loadConfig(process.env);
  switch (command) {
    case 'serve':
      return runServe(config);
    case 'migrate':
      return runMigrate(config);
    case 'create-admin': {
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
      process.stderr.write(`Unknown command "${command}".\n\n${USAGE}\n`);
      return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== 0) process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof ConfigError) process.stderr.write(`${error.message}\n`);
    else process.stderr.write(`postura: ${(error as Error).message}\n`);
    process.exitCode = 1;
  },
);
