// Preloaded into the built service (NODE_OPTIONS=--require) to reproduce a race: the moment the
// boot's port probe closes, another server takes that port, so the check passes and listen() fails.
const net = require('node:net');

const port = Number(process.env.PORT);
const close = net.Server.prototype.close;
let taken = false;
net.Server.prototype.close = function (...args) {
  const address = this.address();
  const result = close.apply(this, args);
  if (!taken && address && address.port === port) {
    taken = true;
    net.createServer().listen(port, address.address).unref();
  }
  return result;
};
