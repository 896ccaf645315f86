// The raw baseline's responder: a bare NATS subscriber that echoes each request, in its own
// process like a service. No framework, no validation, no database.
import { connect } from 'nats';

const [url, subject] = process.argv.slice(2);
const nc = await connect({ servers: url, name: 'bench-echo' });
nc.subscribe(subject, { queue: 'echo', callback: (_err, msg) => msg.respond(msg.data) });
await nc.flush();
process.stdout.write('ready\n');
process.on('SIGTERM', () => nc.drain().then(() => process.exit(0)));
