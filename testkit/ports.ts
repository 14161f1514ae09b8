import net from 'node:net';

export { allocatePort, allocatePorts, releasePort } from '../dev/ports/port-allocator.js';
export { describePort, portHolder } from '../dev/ports/port-holder.js';

/** True when something accepts connections on the loopback port. */
export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
