// A strict TypeScript client of the Chats API, typed only by types/chats.d.ts (generated from
// openapi/chats.yaml by openapi-typescript): create a chat, post a message, read the transcript
// and say what each row is. Every `switch` over a closed set ends in `assertNever`, so a new
// role, envelope, event, part or error code in the document stops this file from compiling.
//
//   npm ci --prefix examples/ts && npm run --prefix examples/ts build   # compiles to examples/ts/dist
//   node examples/ts/dist/transcript.mjs http://127.0.0.1:8080/api/v2 alice00001-AliceDemoSessionSecret
import type { components } from "../../../types/chats.js";

type Schemas = components["schemas"];
type Chat = Schemas["codersdk.Chat"];
type ChatMessage = Schemas["codersdk.ChatMessage"];
type CreateChatRequest = Schemas["codersdk.CreateChatRequest"];
type CreateChatMessageRequest = Schemas["codersdk.CreateChatMessageRequest"];
type CreateChatMessageResponse = Schemas["codersdk.CreateChatMessageResponse"];
type Envelope = Schemas["chats.Envelope"];
type StreamEvent = Schemas["chats.StreamEventEnvelope"];
type ErrorEvent = Schemas["chats.ErrorEvent"];
type Part = Schemas["aisdk.Part"];
type ErrorBody = Schemas["codersdk.Response"];

function assertNever(value: never, what: string): never {
  throw new Error(`unknown ${what}: ${JSON.stringify(value)}`);
}

/** A non-2xx answer, with Coder's error body. */
class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorBody,
  ) {
    super(`${status} ${body.message}${body.detail ? ` (${body.detail})` : ""}`);
  }
}

class ChatsClient {
  constructor(
    private readonly base: string,
    private readonly token: string,
  ) {}

  private async call<T>(method: "GET" | "POST", path: string, body: unknown = null): Promise<T> {
    const response = await fetch(`${this.base}${path}`, {
      method,
      headers: { "Coder-Session-Token": this.token, Accept: "application/json", "Content-Type": "application/json" },
      body: body === null ? null : JSON.stringify(body),
    });
    const parsed: unknown = await response.json();
    if (!response.ok) {
      throw new ApiError(response.status, parsed as ErrorBody);
    }
    return parsed as T;
  }

  createChat(request: CreateChatRequest): Promise<Chat> {
    return this.call<Chat>("POST", "/chats", request);
  }

  getChat(id: string): Promise<Chat> {
    return this.call<Chat>("GET", `/chats/${id}`);
  }

  postMessage(chat: string, request: CreateChatMessageRequest): Promise<CreateChatMessageResponse> {
    return this.call<CreateChatMessageResponse>("POST", `/chats/${chat}/messages`, request);
  }

  messages(chat: string): Promise<ChatMessage[]> {
    return this.call<ChatMessage[]>("GET", `/chats/${chat}/messages`);
  }
}

function json(value: unknown): string {
  return JSON.stringify(value);
}

function describePart(part: Part): string {
  switch (part.type) {
    case "text":
      return `text ${json(part.text)}`;
    case "reasoning":
      return `reasoning ${json(part.reasoning)}`;
    case "tool-invocation": {
      const call = part.toolInvocation;
      return `tool-invocation ${call.toolName} (${call.state})`;
    }
    case "step-start":
      return "step-start";
    case "file":
      return `file ${part.mimeType}`;
    case "source":
      return `source ${part.source.uri ?? part.source.contentType ?? "(inline)"}`;
    default:
      return assertNever(part, "part type");
  }
}

function describeFailure(event: ErrorEvent): string {
  switch (event.code) {
    case "llm_init_failed":
      return "the model could not be set up";
    case "upstream_error":
      return "the model provider failed";
    case "stream_error":
      return "the provider's stream broke off";
    case "marshal_error":
      return "the run could not record its start";
    default:
      return assertNever(event.code, "error code");
  }
}

function tokens(figure: number | null): string {
  return figure === null ? "?" : String(figure);
}

function describeEvent(event: StreamEvent): string {
  switch (event.event) {
    case "run_started":
      return "run started";
    case "usage":
      return `step ${event.step} used ${tokens(event.usage.promptTokens)} prompt + ${tokens(event.usage.completionTokens)} completion tokens`;
    case "run_finished":
      // Open set (WIRE.md section 4): known reasons and whatever a provider adds.
      return `run finished: ${event.finish_reason}${event.steps === undefined ? "" : ` after ${event.steps} steps`}`;
    case "error":
      return `run failed, ${describeFailure(event)}: ${event.code}${event.retryable ? " (retryable)" : ""} ${json(event.message)}`;
    default:
      return assertNever(event, "stream event");
  }
}

function describeContent(content: Envelope): string {
  switch (content.type) {
    case "system_prompt":
      return `system prompt ${json(content.content)}`;
    case "message": {
      const { role, parts } = content.message;
      if (role === "assistant") {
        return `answer ${json(content.message.content ?? "")} in parts: ${parts.map(describePart).join(", ")}`;
      }
      return `says ${parts.map(describePart).join(", ")}`;
    }
    case "stream_event":
      return describeEvent(content);
    case "tool_call":
      return `calls ${content.tool_name} with ${json(content.args)}`;
    case "tool_result":
      return content.error === undefined
        ? `${content.tool_name} returned ${json(content.result)}`
        : `${content.tool_name} failed: ${content.error}`;
    default:
      return assertNever(content, "envelope type");
  }
}

function describeRow(row: ChatMessage): string {
  switch (row.role) {
    case "system":
    case "user":
    case "assistant":
    case "tool_call":
    case "tool_result":
      return `#${row.id} ${row.role}: ${describeContent(row.content)}`;
    default:
      return assertNever(row.role, "role");
  }
}

function finishes(run: string): (row: ChatMessage) => boolean {
  return (row) => row.content.type === "stream_event" && row.content.event === "run_finished" && row.content.run_id === run;
}

async function main(argv: string[]): Promise<void> {
  const [base, token] = argv;
  if (base === undefined || token === undefined) {
    throw new Error("usage: node transcript.mjs BASE_URL TOKEN  (e.g. http://127.0.0.1:8080/api/v2 <session token>)");
  }
  const client = new ChatsClient(base, token);

  const chat = await client.createChat({
    provider: "anthropic",
    model: "claude-sonnet-4-5",
    title: "Look around the workspace",
    metadata: { scenario: "tool-use" },
  });
  const again = await client.getChat(chat.id);
  console.log(`chat ${json(again.title ?? "")} created, reads back: ${again.id === chat.id}`);

  const posted = await client.postMessage(chat.id, { content: "What is in the workspace?" });
  console.log(`posted #${posted.message.id}, run started: ${posted.message.content.type === "message" && posted.message.content.run_id === posted.run_id}`);

  // The run writes in the background: read until its run_finished row is in (at once under
  // `--clock instant`; a few seconds at speed 1).
  let rows = await client.messages(chat.id);
  for (let attempt = 0; !rows.some(finishes(posted.run_id)) && attempt < 200; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    rows = await client.messages(chat.id);
  }
  for (const row of rows) {
    console.log(describeRow(row));
  }

  try {
    await client.getChat("00000000-0000-0000-0000-000000000000");
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    console.log(`a chat that does not exist: ${error.status} ${json(error.body.message)}`);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
