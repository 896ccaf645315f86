// The raw baseline's responder: a bare NATS subscriber that echoes each request, in its own
// process like a service. No framework, no validation, no database.
import { connect } from 'nats';

const [url, subject, user, pass] = process.argv.slice(2);
// As a service's NATS user, so it also runs against the repository's NATS configuration.
const nc = await connect({
  servers: url,
  name: 'bench-echo',
  user,
  pass,
  inboxPrefix: `_INBOX_${user}`,
});
nc.subscribe(subject, { queue: 'echo', callback: (_err, msg) => msg.respond(msg.data) });
await nc.flush();
process.stdout.write('ready\n');
process.on('SIGTERM', () => nc.drain().then(() => process.exit(0)));
