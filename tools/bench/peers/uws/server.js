// uWebSockets.js pub/sub peer for tools/bench: WebSocket /sub/<topic> subscribes,
// POST /pub?id=<topic> publishes the request body to every subscriber of <topic>.
// Usage: node server.js PORT   (binds 127.0.0.1; prints "listening PORT" when ready)
const uWS = require('@trufflesuite/uws-js-unofficial');
const port = parseInt(process.argv[2] || process.env.PORT || '9001', 10);

const app = uWS.App();
app.ws('/sub/*', {
  compression: uWS.DISABLED,
  maxPayloadLength: 64 * 1024,
  maxBackpressure: 4 * 1024 * 1024,
  idleTimeout: 0,
  upgrade: (res, req, context) => {
    res.upgrade({ topic: req.getUrl().slice(5) }, req.getHeader('sec-websocket-key'),
      req.getHeader('sec-websocket-protocol'), req.getHeader('sec-websocket-extensions'), context);
  },
  open: (ws) => { ws.subscribe(ws.getUserData().topic); },
});
app.post('/pub', (res, req) => {
  const topic = req.getQuery('id');
  const chunks = [];
  res.onAborted(() => { res.aborted = true; });
  res.onData((chunk, isLast) => {
    chunks.push(Buffer.from(chunk.slice(0)));
    if (!isLast) return;
    app.publish(topic, Buffer.concat(chunks), false);
    if (!res.aborted) res.end('ok');
  });
});
app.listen('127.0.0.1', port, (token) => {
  if (!token) { console.error('cannot listen on ' + port); process.exit(2); }
  console.log('listening ' + port);
});
