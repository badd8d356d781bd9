// openai_sdk.mjs - the official `openai` npm SDK (v6) against a running
// gateway: what an application using it sees. Run by
// tests/integration/llm_sdk.sh, which starts the gateway and the upstream
// mock and passes:
//   OC_BASE_URL   the gateway's /v1 URL
//   OC_API_KEY    its API key
//   OC_PROXY      a provider/model id (proxied)
//   OC_AGENT      an agent model (openclaw/<id>)
// Prints "ok <n> - <what>" per check; exits 1 at the first failure.
import OpenAI from 'openai';

const client = new OpenAI({
  apiKey: process.env.OC_API_KEY,
  baseURL: process.env.OC_BASE_URL,
  maxRetries: 0,
  timeout: 20000,
});
const PROXY = process.env.OC_PROXY;
const AGENT = process.env.OC_AGENT;
let n = 0;

function check(cond, what, detail) {
  if (!cond) {
    console.log(`FAIL: ${what}${detail === undefined ? '' : ': ' + JSON.stringify(detail)}`);
    process.exit(1);
  }
  console.log(`ok ${++n} - ${what}`);
}

// Non-streaming, proxied.
const c = await client.chat.completions.create({
  model: PROXY,
  messages: [{ role: 'user', content: 'hello' }],
  temperature: 0.5,
});
check(c.object === 'chat.completion', 'chat.completions.create: a chat.completion', c);
check(typeof c.choices[0].message.content === 'string' && c.choices[0].message.content.length > 0,
  'chat.completions.create: the assistant content', c.choices[0]);
check(c.usage && c.usage.total_tokens > 0, 'chat.completions.create: usage', c.usage);

// Streaming, proxied.
const stream = await client.chat.completions.create({
  model: PROXY,
  messages: [{ role: 'user', content: 'stream please' }],
  stream: true,
  stream_options: { include_usage: true },
});
let text = '', finish = null, chunks = 0, usage = null;
for await (const chunk of stream) {
  chunks++;
  if (chunk.usage) usage = chunk.usage;
  const ch = chunk.choices[0];
  if (!ch) continue;
  if (ch.delta?.content) text += ch.delta.content;
  if (ch.finish_reason) finish = ch.finish_reason;
}
check(chunks >= 3 && text.length > 0, 'stream: chunks with content', { chunks, text });
check(finish === 'stop', 'stream: finish_reason stop', finish);
check(usage && usage.total_tokens > 0, 'stream: the usage chunk', usage);

// An agent model, twice in one session.
const a1 = await client.chat.completions.create({
  model: AGENT, user: 'sdk-user', messages: [{ role: 'user', content: 'one' }],
});
const a2 = await client.chat.completions.create({
  model: AGENT, user: 'sdk-user', messages: [{ role: 'user', content: 'two' }],
});
check(a1.model === AGENT && /one/.test(a1.choices[0].message.content),
  'agent: answered', a1.choices[0]);
check(a2.usage.prompt_tokens > a1.usage.prompt_tokens,
  'agent: the session history grows (more prompt tokens)', [a1.usage, a2.usage]);

// Streaming with an agent model.
const as = await client.chat.completions.create({
  model: AGENT, user: 'sdk-user', stream: true, messages: [{ role: 'user', content: 'three' }],
});
let atext = '';
for await (const chunk of as) atext += chunk.choices[0]?.delta?.content ?? '';
check(/three/.test(atext), 'agent stream: the reply', atext);

// models.list()
const ids = [];
for await (const m of client.models.list()) ids.push(m.id);
check(ids.includes(PROXY) && ids.includes(AGENT) && ids.includes('openclaw'),
  'models.list(): agents and provider/model ids', ids);
const one = await client.models.retrieve(PROXY);
check(one.id === PROXY, 'models.retrieve()', one);

// The Responses API.
const r = await client.responses.create({ model: PROXY, input: 'hi', instructions: 'be brief' });
check(r.status === 'completed' && r.output_text.length > 0, 'responses.create: output_text', r);
const rs = await client.responses.create({ model: PROXY, input: 'hi', stream: true });
const types = [];
let rtext = '';
for await (const ev of rs) {
  types.push(ev.type);
  if (ev.type === 'response.output_text.delta') rtext += ev.delta;
}
check(types[0] === 'response.created' && types[types.length - 1] === 'response.completed',
  'responses stream: created ... completed', types);
check(rtext.length > 0, 'responses stream: text deltas', rtext);

// Errors: the SDK raises its typed errors with the gateway's message.
try {
  await client.chat.completions.create({
    model: PROXY, temperature: 3, messages: [{ role: 'user', content: 'x' }],
  });
  check(false, 'temperature 3 is refused');
} catch (e) {
  check(e instanceof OpenAI.BadRequestError, 'temperature 3: BadRequestError', e.constructor.name);
  check(e.status === 400 && /temperature/.test(e.message) && e.param === 'temperature',
    'temperature 3: status, message and param', { status: e.status, message: e.message, param: e.param });
}
try {
  await client.chat.completions.create({ model: 'no/such', messages: [{ role: 'user', content: 'x' }] });
  check(false, 'an unknown model is refused');
} catch (e) {
  check(e instanceof OpenAI.NotFoundError && e.code === 'model_not_found',
    'unknown model: NotFoundError model_not_found', { name: e.constructor.name, code: e.code });
}
const bad = new OpenAI({ apiKey: 'wrong-key', baseURL: process.env.OC_BASE_URL, maxRetries: 0 });
try {
  await bad.models.list();
  check(false, 'a wrong key is refused');
} catch (e) {
  check(e instanceof OpenAI.AuthenticationError, 'wrong key: AuthenticationError', e.constructor.name);
}
console.log(`${n} passed, 0 failed`);
