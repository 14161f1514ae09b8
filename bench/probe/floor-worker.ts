// The ceiling of a Worker in this local runtime: answer at once, no I/O at all. Shows how much of the edge's cost is
// the runtime itself (Miniflare's entry hop, workerd's request handling) rather than anything the edge does.
export default {
  fetch(): Response {
    return new Response('{"ok":true}', { headers: { 'content-type': 'application/json', 'x-origin': 'floor' } });
  },
};
