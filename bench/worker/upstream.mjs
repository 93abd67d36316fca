// The bench's fake OpenAI: reads the whole request body, answers a fixed chat completion.
// Runs in its own process so it does not share an event loop with the load client.
import http from "node:http";

const answer = JSON.stringify({
  id: "chatcmpl-bench",
  object: "chat.completion",
  created: 1700000000,
  model: "gpt-4o-mini-2024-07-18",
  choices: [{ index: 0, message: { role: "assistant", content: "Hello! How can I help you today?" }, finish_reason: "stop" }],
  usage: { prompt_tokens: 9, completion_tokens: 9, total_tokens: 18 },
});

// For a request that asks for a json_schema format (issue 17's row): an answer that follows it.
const structured = JSON.stringify({
  ...JSON.parse(answer),
  choices: [{ index: 0, message: { role: "assistant", content: JSON.stringify({ city: "Oslo", population: 709000, tags: ["capital", "port"] }), refusal: null }, finish_reason: "stop" }],
});

const server = http.createServer((req, res) => {
  let schema = false;
  req.on("data", (d) => {
    if (!schema && d.includes("json_schema")) schema = true;
  });
  req.on("end", () => {
    const body = schema ? structured : answer;
    res.writeHead(200, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(body),
      "x-request-id": "req_bench",
      "openai-processing-ms": "1",
      // Ample room, as OpenAI states it on every answer: the paced target's pacer learns it.
      "x-ratelimit-limit-requests": "1000000",
      "x-ratelimit-remaining-requests": "999999",
      "x-ratelimit-reset-requests": "6ms",
      "x-ratelimit-limit-tokens": "1000000000",
      "x-ratelimit-remaining-tokens": "999990000",
      "x-ratelimit-reset-tokens": "1ms",
    });
    res.end(body);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`${server.address().port}\n`);
});
process.on("SIGTERM", () => process.exit(0));
