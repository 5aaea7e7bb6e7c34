// A strict TypeScript consumer of today's chat stream, typed only by types/current/chats.d.ts
// (generated from openapi/current/chats.yaml by openapi-typescript): start a chat over REST,
// follow its run on `GET /chats/{chat}/stream` as a UI does, and when the connection drops,
// reconnect with `after_id` set to the last stored message it holds. It renders each stored
// message once, keeps streamed parts as a preview of the next message (dropped at
// `preview_reset`, replayed parts skipped by `seq`), and stops when the run has ended.
// Every `switch` over a closed set ends in `assertNever`: a new event type, status, role or part
// type in the document stops this file from compiling.
//
//   npm ci --prefix examples/ts && npm run --prefix examples/ts build   # compiles to examples/ts/dist
//   node --experimental-websocket examples/ts/dist/stream.mjs http://127.0.0.1:8082/api/v2 \
//     alice00001-AliceDemoSessionSecret          # against `chats-mock serve --api current`
//
// Node 20 has the browser's WebSocket behind --experimental-websocket (Node 22 without). As in a
// browser, the token goes in the query (`coder_session_token`): a WebSocket cannot set headers.
import type { components } from "../../../types/current/chats.js";

type Schemas = components["schemas"];
type Chat = Schemas["codersdk.Chat"];
type ChatStatus = Schemas["codersdk.ChatStatus"];
type ChatMessage = Schemas["codersdk.ChatMessage"];
type ChatMessagePart = Schemas["codersdk.ChatMessagePart"];
type ChatError = Schemas["codersdk.ChatError"];
type CreateChatRequest = Schemas["codersdk.CreateChatRequest"];
type ModelsResponse = Schemas["codersdk.OrganizationChatModelsResponse"];
type StreamEvent = Schemas["codersdk.ChatStreamEvent"];
type StreamFrame = Schemas["codersdk.ChatStreamFrame"];
type StreamMessagePart = Schemas["codersdk.ChatStreamMessagePart"];
type ErrorBody = Schemas["codersdk.Response"];

// Every close but the client's own is met with a reconnect (a server stopping sends 1001, the
// mock's 1008 means "fell behind, reconnect with after_id"), at most this many times in a row.
const MAX_RECONNECTS = 5;
const NORMAL_CLOSURE = 1000;

function assertNever(value: never, what: string): never {
  throw new Error(`unknown ${what}: ${JSON.stringify(value)}`);
}

function json(value: unknown): string {
  return JSON.stringify(value);
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
    readonly base: string,
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

  models(organization: string): Promise<ModelsResponse> {
    return this.call<ModelsResponse>("GET", `/organizations/${encodeURIComponent(organization)}/chats/models`);
  }

  createChat(request: CreateChatRequest): Promise<Chat> {
    return this.call<Chat>("POST", "/chats", request);
  }

  /** The stream's URL: ws(s) for http(s), the token in the query as a browser must send it. */
  streamURL(chat: string, afterID: number): string {
    const url = new URL(`${this.base}/chats/${chat}/stream`);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    url.searchParams.set("after_id", String(afterID));
    url.searchParams.set("coder_session_token", this.token);
    return url.toString();
  }
}

function describePart(part: ChatMessagePart): string {
  switch (part.type) {
    case "text":
      return `text ${json(part.text)}`;
    case "reasoning":
      return `reasoning ${json(part.text)}`;
    case "tool-call":
      return `calls ${part.tool_name ?? "?"} with ${json(part.args ?? null)}`;
    case "tool-result":
      return `${part.tool_name ?? "?"} ${part.is_error ? "failed" : "returned"} ${json(part.result ?? null)}`;
    case "source":
      return `source ${part.url}`;
    case "file":
      return `file ${part.media_type}`;
    case "file-reference":
      return `file-reference ${part.file_name}:${part.start_line}-${part.end_line}`;
    case "context-file":
      return `context-file ${part.context_file_path}`;
    case "skill":
      return `skill ${part.skill_name}`;
    case "hook-context":
    case "hook-notice":
      return `${part.type} ${json(part.text)}`;
    default:
      return assertNever(part.type, "part type");
  }
}

function describeMessage(message: ChatMessage): string {
  const parts = (message.content ?? []).map(describePart).join("; ");
  switch (message.role) {
    case "system":
    case "user":
    case "assistant":
    case "tool":
      return `#${message.id} ${message.role}: ${parts}`;
    default:
      return assertNever(message.role, "role");
  }
}

function describeStatus(status: ChatStatus): string {
  switch (status) {
    case "waiting":
      return "waiting (idle)";
    case "running":
      return "running";
    case "interrupting":
      return "interrupting";
    case "requires_action":
      return "requires_action (waits for the client's tool results)";
    case "error":
      return "error";
    default:
      return assertNever(status, "status");
  }
}

function describeError(error: ChatError): string {
  return `${error.kind ?? "generic"}${error.retryable ? " (retryable)" : ""}: ${error.message}`;
}

/** What a UI holds of a chat: its stored messages by id, the preview of the next one, its status. */
class ChatView {
  readonly messages = new Map<number, ChatMessage>();
  status: ChatStatus | null = null;
  /** The streamed parts of the message being generated, in `seq` order. */
  preview: StreamMessagePart[] = [];
  partsSeen = 0;
  done = false;

  constructor(readonly say: (line: string) => void) {}

  /** The last stored message id held: what a reconnect asks the server to start after. */
  lastMessageID(): number {
    return Math.max(0, ...this.messages.keys());
  }

  apply(event: StreamEvent): void {
    switch (event.type) {
      case "message_part": {
        const part = event.message_part;
        const last = this.preview.at(-1);
        // Parts of one attempt carry increasing `seq`; one at or below the last held is a replay.
        if (part.seq !== undefined && last?.seq !== undefined && part.seq <= last.seq) return;
        this.preview.push(part);
        this.partsSeen += 1;
        return;
      }
      case "message": {
        const known = this.messages.get(event.message.id);
        this.messages.set(event.message.id, event.message);
        if (known === undefined || json(known) !== json(event.message)) {
          // A stored message supersedes the preview it was streamed as.
          if (event.message.role === "assistant") this.preview = [];
          this.say(describeMessage(event.message));
        }
        return;
      }
      case "status": {
        const status = event.status.status;
        if (status === this.status) return;
        this.status = status;
        this.say(`status: ${describeStatus(status)}`);
        // The chat was created with a message, so it ran from the start: idle or failed is the end.
        if (status === "waiting" || status === "error") this.done = true;
        return;
      }
      case "error":
        this.say(`run failed: ${describeError(event.error)}`);
        return;
      case "queue_update":
        this.say(`queue: ${(event.queued_messages ?? []).length} waiting`);
        return;
      case "retry":
        this.say(`retry ${event.retry.attempt} in ${event.retry.delay_ms} ms: ${event.retry.error}`);
        return;
      case "action_required":
        this.say(`action required: ${(event.action_required.tool_calls ?? []).map((call) => call.tool_name).join(", ")}`);
        return;
      case "preview_reset":
        this.preview = [];
        return;
      case "history_reset":
        // The stored history changed under us: what follows is the whole transcript again.
        this.messages.clear();
        this.preview = [];
        this.say("history reset");
        return;
      default:
        assertNever(event, "stream event");
    }
  }
}

/** How one connection ended: by us once the run was over, or by the server or network. */
type Ending = { byClient: true } | { byClient: false; code: number; reason: string };

/** Follows the stream from `afterID` until the run is over (then closes it) or the server closes it. */
function follow(client: ChatsClient, chat: string, view: ChatView, afterID: number): Promise<Ending> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(client.streamURL(chat, afterID));
    let closing = false;
    socket.onopen = () => view.say(`stream open (after_id=${afterID})`);
    socket.onmessage = (message) => {
      if (typeof message.data !== "string") {
        socket.close(NORMAL_CLOSURE);
        reject(new Error("the stream sent a binary frame"));
        return;
      }
      try {
        // A frame is a JSON array of events (and a trailing newline, which JSON.parse ignores).
        const frame = JSON.parse(message.data) as StreamFrame;
        for (const event of frame) view.apply(event);
      } catch (error) {
        socket.close(NORMAL_CLOSURE);
        reject(error);
        return;
      }
      if (view.done && !closing) {
        closing = true;
        socket.close(NORMAL_CLOSURE);
      }
    };
    socket.onclose = (event) =>
      resolve(closing ? { byClient: true } : { byClient: false, code: event.code, reason: event.reason });
  });
}

async function main(argv: string[]): Promise<void> {
  const [base, token, prompt = "/tool-use What is in the workspace?"] = argv;
  if (base === undefined || token === undefined) {
    throw new Error("usage: node --experimental-websocket stream.mjs BASE_URL TOKEN [PROMPT]");
  }
  const client = new ChatsClient(base, token);
  const say = (line: string): void => console.log(line);

  // The model picker names the organization's models; a chat starts on its first message.
  const { models } = await client.models("coder");
  const model = models.find((candidate) => candidate.is_default) ?? models[0];
  if (model === undefined) throw new Error("the organization has no chat model");
  const chat = await client.createChat({
    organization_id: model.organization_id,
    model_config_id: model.id,
    content: [{ type: "text", text: prompt }],
  });
  say(`chat ${chat.id} created, status ${chat.status}`);

  const view = new ChatView(say);
  let reconnects = 0;
  for (;;) {
    const ending = await follow(client, chat.id, view, view.lastMessageID());
    if (ending.byClient) break;
    if (reconnects === MAX_RECONNECTS) {
      throw new Error(`the stream closed ${reconnects + 1} times; last: ${ending.code} ${ending.reason}`);
    }
    reconnects += 1;
    say(`stream closed by the server: ${ending.code}${ending.reason ? ` ${json(ending.reason)}` : ""}; reconnecting with after_id=${view.lastMessageID()}`);
  }
  say(`run over: ${view.messages.size} messages, ${view.partsSeen} parts streamed, ${reconnects} reconnect(s)`);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
