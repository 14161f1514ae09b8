import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

/** Inodes of sockets listening on `port` (IPv4 and IPv6), from /proc/net/tcp*. */
function listeningInodes(port: number): Set<string> {
  const inodes = new Set<string>();
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const local = fields[1];
      // st 0A = LISTEN; the inode is the tenth field.
      if (local?.endsWith(`:${hexPort}`) === true && fields[3] === '0A' && fields[9] !== undefined) inodes.add(fields[9]);
    }
  }
  return inodes;
}

function commandOf(pid: string): string {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
    return cmdline.length > 120 ? `${cmdline.slice(0, 117)}...` : cmdline;
  } catch {
    return '?';
  }
}

/**
 * Who listens on a loopback port, for an error message: `pid 1234 (redis-server --port 20001)`, `a process this user
 * cannot see` when the socket exists but its owner is not visible, or null when nothing listens (or this is not Linux).
 */
export function portHolder(port: number): string | null {
  const inodes = listeningInodes(port);
  if (inodes.size === 0) return null;
  const wanted = new Set([...inodes].map((inode) => `socket:[${inode}]`));
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (wanted.has(readlinkSync(`/proc/${pid}/fd/${fd}`))) return `pid ${pid} (${commandOf(pid)})`;
      } catch {
        // Closed while we looked.
      }
    }
  }
  return 'a process this user cannot see';
}

/** `port 20001 (held by pid 1234 (redis-server ...))`, or `port 20001 (no listener found now)`. */
export function describePort(port: number): string {
  const holder = portHolder(port);
  return `port ${port} (${holder === null ? 'no listener found now' : `held by ${holder}`})`;
}
