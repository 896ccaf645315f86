import { createServer, type AddressInfo, type Server } from 'node:net';
import { coalescingSocket } from './coalescing-socket';

describe('coalescingSocket', () => {
  let server: Server;
  const chunks: string[] = [];

  beforeAll(async () => {
    server = createServer((s) => s.on('data', (d: Buffer) => chunks.push(d.toString())));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('holds what is written in one tick and sends it together when the tick ends', async () => {
    const socket = coalescingSocket();
    await new Promise<void>((resolve) =>
      socket.connect((server.address() as AddressInfo).port, '127.0.0.1', resolve),
    );
    socket.write('bind|');
    expect(socket.writableCorked).toBe(1);
    socket.write('execute|');
    socket.write('sync');
    // Still one cork (not one per write), so one uncork sends all three.
    expect(socket.writableCorked).toBe(1);
    await new Promise((r) => process.nextTick(r));
    expect(socket.writableCorked).toBe(0);
    const deadline = Date.now() + 5000;
    while (chunks.join('') !== 'bind|execute|sync' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(chunks.join('')).toBe('bind|execute|sync');
    // A write in a later tick corks again.
    socket.write('next');
    expect(socket.writableCorked).toBe(1);
    socket.destroy();
  });
});
