// The table of every configuration key. 0.7.1's keys keep their names and defaults (except
// `host`, which binds loopback unless told otherwise); ours are additions.
#include "common/config.h"

namespace channelstream::common {

const std::vector<ConfigKey>& AllConfigKeys() {
  static const std::vector<ConfigKey> keys = {
      // --- Channelstream 0.7.1 keys -------------------------------------------------------
      {"host", KeyType::kString, "127.0.0.1", "address the HTTP server binds (0.7.1 bound 0.0.0.0)",
       "all"},
      {"port", KeyType::kInt, "8000", "HTTP port (REST API, /ws, /listen, admin)", "all", 65535},
      {"secret", KeyType::kString, "secret", "HMAC secret of the signed server API",
       "rest_adapter"},
      {"admin_user", KeyType::kString, "admin", "admin panel user name", "rest_adapter"},
      {"admin_secret", KeyType::kString, "admin_secret", "admin panel password", "rest_adapter"},
      {"cookie_secret", KeyType::kString, "",
       "secret for the admin session cookie (empty: derived from secret and admin_secret)",
       "rest_adapter"},
      {"allow_posting_from", KeyType::kList, "127.0.0.1",
       "addresses or CIDR ranges allowed to call the server API (0.0.0.0 = any)", "rest_adapter"},
      {"allow_cors", KeyType::kList, "",
       "origins allowed by CORS (empty: Access-Control-Allow-Origin: * on every response)",
       "rest_adapter,gateway"},
      {"validate_requests", KeyType::kBool, "true",
       "reject signatures older than signature_max_age", "rest_adapter"},
      {"enforce_https", KeyType::kBool, "false",
       "generate https URLs in the admin panel and API explorer", "rest_adapter"},
      {"http_scheme", KeyType::kString, "",
       "scheme used in generated URLs (empty: from the request)", "rest_adapter"},
      {"wake_connections_after", KeyType::kDouble, "5",
       "long poll: seconds to wait for a first message", "gateway"},
      {"gc_conns_after", KeyType::kDouble, "30",
       "seconds after which a connection with no client attached is removed", "broker"},
      {"gc_channels_after", KeyType::kDouble, "259200",
       "seconds after which an empty, inactive channel is removed", "broker"},
      {"log_level", KeyType::kString, "INFO", "DEBUG, INFO, WARNING or ERROR", "all"},
      {"debug", KeyType::kBool, "false", "same as log_level DEBUG", "all"},
      // --- Signing ----------------------------------------------------------------------
      {"require_path_signature", KeyType::kBool, "true",
       "the signed value must be the request path (false: any value signed with the secret, as "
       "0.7.1 accepted)",
       "rest_adapter"},
      {"signature_max_age", KeyType::kDouble, "60",
       "seconds a signature stays valid when validate_requests is true", "rest_adapter"},
      // --- Broker -----------------------------------------------------------------------
      {"broker_listen", KeyType::kListenAddress, "127.0.0.1:8001",
       "gRPC address the broker binary listens on (all-in-one: only when embedded_broker_listen is "
       "true)",
       "broker"},
      {"embedded_broker_listen", KeyType::kBool, "false",
       "all-in-one: also expose the broker's gRPC API on broker_listen", "broker"},
      {"broker_address", KeyType::kTargetAddress, "127.0.0.1:8001",
       "gRPC address of the broker (split deployment: gateway and rest_adapter connect here)",
       "gateway,rest_adapter"},
      {"gc_users_after", KeyType::kDouble, "86400",
       "seconds after which a user with no connections is forgotten", "broker"},
      {"gc_interval", KeyType::kDouble, "5", "seconds between garbage-collection sweeps", "broker"},
      {"max_json_depth", KeyType::kInt, "64",
       "deepest nesting of JSON accepted from clients and backends (REST bodies, gRPC _json "
       "fields); checked while parsing",
       "broker,rest_adapter,gateway",
       1000},  // the serializer recurses once per level: keep it far from any thread's stack size
      {"max_payload_bytes", KeyType::kInt, "65536",
       "largest serialized message payload or user state accepted", "broker"},
      {"max_channels_per_connection", KeyType::kInt, "1000",
       "channels one connection may subscribe", "broker"},
      {"max_connections_per_user", KeyType::kInt, "1000", "connections one user may hold",
       "broker"},
      {"max_history_size", KeyType::kInt, "1000",
       "largest history_size a channel may be configured with", "broker"},
      {"catchup_frames", KeyType::kInt, "100", "catch-up frames kept per channel and per user",
       "broker"},
      {"catchup_max_age", KeyType::kDouble, "60", "seconds a catch-up frame is kept", "broker"},
      {"max_catchup_bytes", KeyType::kInt, "8388608",
       "catch-up bytes one client attach may receive; older frames past it are cut and the client "
       "gets a recovery_failed object (reason catchup_limit)",
       "broker"},
      {"catchup_chunk_bytes", KeyType::kInt, "1048576",
       "largest catch-up chunk or delivery batch in one broker->gateway message (at most a quarter "
       "of grpc_max_message_bytes)",
       "broker"},
      {"data_dir", KeyType::kString, "",
       "directory for the broker's durable state (snapshot + journal); empty: memory only, a "
       "restart forgets everything",
       "broker"},
      {"journal_fsync", KeyType::kBool, "false",
       "data_dir: fdatasync every journal record before answering (survives power loss; slower); "
       "false: survives a crash of the process",
       "broker"},
      {"snapshot_interval", KeyType::kDouble, "300",
       "data_dir: seconds between periodic snapshots (each starts a new journal)", "broker"},
      {"journal_max_bytes", KeyType::kInt, "67108864",
       "data_dir: a journal this large triggers a snapshot before snapshot_interval", "broker"},
      {"max_gateway_queue_items", KeyType::kInt, "100000",
       "deliveries queued for one gateway stream before the broker disconnects that gateway",
       "broker"},
      {"info_page_size", KeyType::kInt, "1000",
       "entries (channels + users) in one Info / AdminInfo page (/info, /admin/admin.json) when "
       "the request gives no limit (0 counts as 1)",
       "broker"},
      {"info_max_page_size", KeyType::kInt, "10000",
       "largest limit an Info / AdminInfo request may ask for (more: INVALID_ARGUMENT naming "
       "limit)",
       "broker"},
      {"info_page_max_bytes", KeyType::kInt, "3145728",
       "bytes of entries in one Info / AdminInfo page: the page ends early before passing it "
       "(below the 4 MiB gRPC clients accept by default; at most half of grpc_max_message_bytes is "
       "used)",
       "broker"},
      // --- gRPC security (broker listener, gateway and REST adapter channels) ---------------
      {"grpc_tls_cert", KeyType::kString, "",
       "PEM certificate chain the broker's gRPC listener presents (with grpc_tls_key: TLS on)",
       "broker"},
      {"grpc_tls_key", KeyType::kString, "", "PEM private key of grpc_tls_cert", "broker"},
      {"grpc_tls_ca", KeyType::kString, "",
       "PEM CA bundle: the broker verifies client certificates with it; gateway and REST adapter "
       "verify the broker's certificate with it (set: TLS to the broker)",
       "broker,gateway,rest_adapter"},
      {"grpc_tls_require_client_cert", KeyType::kBool, "false",
       "broker: mutual TLS, every client must present a certificate signed by grpc_tls_ca",
       "broker"},
      {"grpc_tls_client_cert", KeyType::kString, "",
       "PEM certificate chain gateway and REST adapter present to the broker (mutual TLS)",
       "gateway,rest_adapter"},
      {"grpc_tls_client_key", KeyType::kString, "", "PEM private key of grpc_tls_client_cert",
       "gateway,rest_adapter"},
      {"grpc_tls_server_name", KeyType::kString, "",
       "name the broker's certificate must carry (empty: the host of broker_address)",
       "gateway,rest_adapter"},
      {"grpc_backend_token", KeyType::kString, "",
       "bearer token for the broker's unary API (REST adapter, backends); set on the broker, any "
       "token set turns token checks on",
       "broker,rest_adapter"},
      {"grpc_gateway_token", KeyType::kString, "",
       "bearer token for GatewayStream and Disconnect (gateways); must differ from "
       "grpc_backend_token",
       "broker,gateway"},
      {"grpc_allow_insecure", KeyType::kBool, "false",
       "allow plaintext gRPC to or on a non-loopback address (without it, such a listener or "
       "channel refuses to start)",
       "broker,gateway,rest_adapter"},
      {"grpc_max_message_bytes", KeyType::kInt, "16777216",
       "largest gRPC message sent or received by every broker server and channel",
       "broker,gateway,rest_adapter", 2147483647},  // gRPC takes an int
      // --- Gateway ----------------------------------------------------------------------
      {"gateway_id", KeyType::kString, "",
       "name of this gateway in logs and admin info (empty: host:port)", "gateway"},
      {"io_threads", KeyType::kInt, "0", "event-loop threads (0: one per core)",
       "gateway,rest_adapter"},
      {"heartbeat_interval", KeyType::kDouble, "5", "seconds between [] heartbeats on WebSockets",
       "gateway"},
      {"ws_ping_interval", KeyType::kDouble, "20", "seconds between WebSocket protocol pings",
       "gateway"},
      {"client_timeout", KeyType::kDouble, "60",
       "close a WebSocket that sent nothing (text or pong) for this long", "gateway"},
      {"long_poll_gather", KeyType::kDouble, "0.25",
       "long poll: seconds to gather more messages after the first", "gateway"},
      {"write_delay", KeyType::kDouble, "0.01",
       "seconds deliveries wait so that several leave in one merged frame and one write per client "
       "(0: at the end of the current loop turn, lowest latency)",
       "gateway",
       1},  // a coalescing window is latency added to every delivery: more than a second is a typo
      {"max_queue_bytes", KeyType::kInt, "4194304",
       "bytes queued for one slow client before it is closed", "gateway"},
      {"max_queue_messages", KeyType::kInt, "10000",
       "frames queued for one slow client before it is closed", "gateway"},
      {"max_client_message_bytes", KeyType::kInt, "65536",
       "largest frame accepted from a WebSocket client", "gateway"},
      {"allowed_origins", KeyType::kList, "", "WebSocket Origin allowlist (empty: any origin)",
       "gateway"},
      {"broker_reconnect_delay", KeyType::kDouble, "1",
       "seconds between attempts to reach the broker (also gRPC's reconnect backoff, so a "
       "restarted broker is seen again within about this long)",
       "gateway,rest_adapter"},
      {"drain_timeout", KeyType::kDouble, "5",
       "seconds a gateway stopping on SIGTERM gives its clients to receive what is queued for them "
       "(then WebSocket close 1001, long polls answered) before closing the rest",
       "gateway", 3600},
      // --- REST adapter -----------------------------------------------------------------
      {"max_request_body_bytes", KeyType::kInt, "1048576", "largest HTTP request body accepted",
       "rest_adapter,gateway"},
      {"max_unauthenticated_body_bytes", KeyType::kInt, "16384",
       "largest body read before the request is authenticated (admin sign-in form, /disconnect); "
       "signed routes are checked from their headers first",
       "rest_adapter,gateway"},
      {"max_unauthenticated_bytes_in_flight", KeyType::kInt, "1048576",
       "all unauthenticated bodies being read at once; past it new ones get 503",
       "rest_adapter,gateway"},
      {"tls_cert", KeyType::kString, "",
       "PEM certificate chain: with tls_key the HTTP port speaks only TLS (https, wss); reloaded "
       "on SIGHUP (empty: plain HTTP)",
       "rest_adapter,gateway"},
      {"tls_key", KeyType::kString, "", "PEM private key of tls_cert (set both or neither)",
       "rest_adapter,gateway"},
      {"tls_min_version", KeyType::kString, "1.2", "lowest TLS version accepted: 1.2 or 1.3",
       "rest_adapter,gateway"},
      {"max_connections", KeyType::kInt, "0",
       "open client connections (HTTP and WebSocket) beyond which new ones get 503 and are closed "
       "(0: the open-files limit less a reserve of a tenth, at least 32)",
       "rest_adapter,gateway"},
      {"admin_session_max_age", KeyType::kDouble, "86400",
       "seconds an admin session cookie stays valid", "rest_adapter"},
      {"admin_signin_max_failures", KeyType::kInt, "5",
       "failed admin sign-ins per address before throttling", "rest_adapter"},
      {"admin_signin_tracked_addresses", KeyType::kInt, "10000",
       "addresses whose failed sign-ins are remembered at once (the oldest are forgotten first)",
       "rest_adapter"},
      {"admin_signin_throttle", KeyType::kDouble, "60",
       "seconds an address is throttled after too many failed sign-ins", "rest_adapter"},
      {"rpc_timeout", KeyType::kDouble, "10", "seconds a REST request waits for the broker",
       "rest_adapter"},
      // --- Observability ----------------------------------------------------------------
      {"log_format", KeyType::kString, "text",
       "text (one line: ISO 8601 UTC time, level, message, key=value fields) or json (one object "
       "per line: ts, level, msg, fields)",
       "all"},
      {"access_log", KeyType::kBool, "true",
       "log one INFO line per HTTP request (method, path with secret= masked, status, duration, "
       "bytes, client, 4xx reason)",
       "rest_adapter,gateway"},
      {"trusted_proxies", KeyType::kList, "",
       "addresses or CIDR ranges of reverse proxies whose X-Forwarded-For / X-Real-IP name the "
       "client (empty: the TCP peer is the client)",
       "rest_adapter,gateway"},
      {"metrics_listen", KeyType::kListenAddress, "",
       "broker binary: host:port of a small HTTP server for /metrics, /health and /ready (empty: "
       "none)",
       "broker"},
      {"ready_timeout", KeyType::kDouble, "0.5",
       "seconds /ready waits for the broker channel to connect before answering 503",
       "rest_adapter", 10},
  };
  return keys;
}

}  // namespace channelstream::common
