// Every action module registers itself on import; the agent imports this one file.
import './system.js';
import './capture.js';
import './packet.js';
import './udp.js';
import './tcp.js';
import './udp-recv.js';
import './tcp-hold.js';
import './sysctl.js';
import './zc.js';
import './tunnel.js';
import './tcp-stream.js';
import './udp-gso.js';
import './link-mtu.js';
import './vlan-link.js';
import './sctp.js';
import './link-pace.js';
