import { Socket } from 'node:net';

/**
 * A socket for the pg driver that sends what is written to it within one tick in one system
 * call. pg writes each protocol message of a query separately (Bind, Describe, Execute, Sync:
 * four writes, four wake-ups of the database backend); corked until the tick ends, they go out
 * together (one `writev`). Nothing waits longer than the current tick.
 */
export function coalescingSocket(): Socket {
  const socket = new Socket();
  const connect = socket.connect as (...args: unknown[]) => Socket;
  // Node's connect() puts Socket.prototype.write back on the instance: the wrapper goes after it.
  socket.connect = function (this: Socket, ...args: unknown[]): Socket {
    const result = connect.apply(this, args);
    coalesceWrites(this);
    return result;
  } as Socket['connect'];
  return socket;
}

function coalesceWrites(socket: Socket): void {
  const write = Socket.prototype.write;
  let corked = false;
  const uncork = (): void => {
    corked = false;
    socket.uncork();
  };
  socket.write = function (this: Socket, ...args: Parameters<Socket['write']>): boolean {
    if (!corked) {
      corked = true;
      socket.cork();
      process.nextTick(uncork);
    }
    return write.apply(this, args);
  } as Socket['write'];
}
