// Orac's real-client test (tests/Orac.Cli.Tests/McpClientTests.cs): the official MCP TypeScript SDK's Client talks to
// Orac over stdio (spawning `orac mcp`) or Streamable HTTP (/mcp with a bearer token), runs the steps it is given and
// prints one JSON document with what it saw. The SDK validates every structuredContent against the tool's outputSchema.
//
// usage: node client.mjs stdio BINARY ARG... -- STEPS_JSON
//        node client.mjs http URL TOKEN -- STEPS_JSON
// STEPS_JSON: {"list": true, "readMemory": true, "persona": true, "calls": [{"name": "top_functions", "arguments": {...}}]}
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const argv = process.argv.slice(2);
const sep = argv.indexOf("--");
if (sep < 0 || argv.length < 3) {
  console.error("usage: node client.mjs stdio BINARY ARG... -- STEPS_JSON | http URL TOKEN -- STEPS_JSON");
  process.exit(2);
}
const [mode, ...target] = argv.slice(0, sep);
const steps = JSON.parse(argv[sep + 1]);

let transport;
if (mode === "stdio") {
  const [command, ...args] = target;
  transport = new StdioClientTransport({ command, args, env: { ...process.env }, stderr: "inherit" });
} else if (mode === "http") {
  const [url, token] = target;
  transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: { headers: token ? { Authorization: `Bearer ${token}` } : {} },
  });
} else {
  console.error(`unknown mode ${mode}`);
  process.exit(2);
}

const client = new Client({ name: "orac-test-client", version: "1.0.0" });
const out = {};
try {
  await client.connect(transport);
  out.server = client.getServerVersion();
  out.capabilities = client.getServerCapabilities();
  if (steps.list) {
    out.tools = (await client.listTools()).tools;
    out.resources = (await client.listResources()).resources;
    out.prompts = (await client.listPrompts()).prompts;
  }
  if (steps.readMemory) {
    out.memory = await client.readResource({ uri: "orac://memory" });
  }
  if (steps.persona) {
    out.persona = await client.getPrompt({ name: "orac_persona" });
  }
  out.calls = [];
  for (const call of steps.calls ?? []) {
    if (!out.tools) {
      // callTool validates structuredContent against the listed outputSchema: list first.
      await client.listTools();
    }
    try {
      out.calls.push({ name: call.name, result: await client.callTool({ name: call.name, arguments: call.arguments ?? {} }) });
    } catch (e) {
      out.calls.push({ name: call.name, thrown: String(e?.message ?? e) });
    }
  }
} catch (e) {
  out.failed = String(e?.stack ?? e);
} finally {
  try {
    await client.close();
  } catch {
    // already closed
  }
}
process.stdout.write(JSON.stringify(out) + "\n");
process.exit(out.failed ? 1 : 0);
