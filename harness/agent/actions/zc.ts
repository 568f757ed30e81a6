// The zc family's agent actions (files, sendfile, MSG_ZEROCOPY, mutation, receivers), one import for index.ts.
import './zc-file.js';
import './zc-recv.js';
import './zc-udp.js';
import './zc-send.js';
import './zc-mutate.js';
import './zc-taps.js';
