// The floor: the least an edge proxy can do. Rewrites the URL to the upstream and fetches it;
// no body read, no checks. Its added latency is what any Worker in front of the API pays.
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    return fetch(new Request(new URL(url.pathname + url.search, env.UPSTREAM_URL), request));
  },
};
