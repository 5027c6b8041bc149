-- A campaign database in the pre-release layout (schema version 0): what
-- fluxaudit builds before versioned schemas wrote at the end of a session.
-- No user_version, no application id, no checkpoint time, no provisional
-- results. test_store opens it to check the migration to version 1 and that
-- every row survives it. docs/store.md, "Versions and migrations".
CREATE TABLE sessions (
 id INTEGER PRIMARY KEY,
 kind TEXT NOT NULL CHECK (kind IN ('replay', 'live')),
 started_usec INTEGER NOT NULL,
 ended_usec INTEGER,
 matrix_path TEXT,
 matrix_text TEXT NOT NULL,
 sources TEXT NOT NULL DEFAULT '[]',
 packets INTEGER NOT NULL DEFAULT 0,
 bytes INTEGER NOT NULL DEFAULT 0,
 ip_packets INTEGER NOT NULL DEFAULT 0,
 malformed INTEGER NOT NULL DEFAULT 0,
 not_ip INTEGER NOT NULL DEFAULT 0,
 not_decoded INTEGER NOT NULL DEFAULT 0,
 fragments INTEGER NOT NULL DEFAULT 0,
 first_usec INTEGER NOT NULL DEFAULT 0,
 last_usec INTEGER NOT NULL DEFAULT 0,
 dropped INTEGER NOT NULL DEFAULT 0,
 flows_active INTEGER NOT NULL DEFAULT 0,
 flows_peak INTEGER NOT NULL DEFAULT 0,
 flows_created INTEGER NOT NULL DEFAULT 0,
 flows_idle INTEGER NOT NULL DEFAULT 0,
 flows_evicted INTEGER NOT NULL DEFAULT 0,
 flows_flushed INTEGER NOT NULL DEFAULT 0,
 dpi_classified INTEGER NOT NULL DEFAULT 0,
 dpi_guessed INTEGER NOT NULL DEFAULT 0,
 dpi_unknown INTEGER NOT NULL DEFAULT 0,
 dpi_state_bytes INTEGER NOT NULL DEFAULT 0);
CREATE TABLE results (
 id INTEGER PRIMARY KEY,
 session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
 is_finding INTEGER NOT NULL CHECK (is_finding IN (0, 1)),
 device TEXT NOT NULL,
 code TEXT,
 variant TEXT,
 risk TEXT,
 matrix_flow TEXT,
 client TEXT NOT NULL,
 server TEXT NOT NULL,
 proto INTEGER NOT NULL,
 port INTEGER NOT NULL,
 app TEXT NOT NULL,
 first_usec INTEGER NOT NULL,
 last_usec INTEGER NOT NULL,
 connections INTEGER NOT NULL,
 packets INTEGER NOT NULL,
 bytes INTEGER NOT NULL,
 evidence TEXT NOT NULL DEFAULT '[]');
CREATE INDEX results_session ON results(session_id);

-- One replay of one file, 2023-11-14T22:13:20Z to 23:13:20Z.
INSERT INTO sessions (id, kind, started_usec, ended_usec, matrix_path, matrix_text, sources,
    packets, bytes, ip_packets, malformed, not_ip, not_decoded, fragments, first_usec, last_usec,
    dropped, flows_active, flows_peak, flows_created, flows_idle, flows_evicted, flows_flushed,
    dpi_classified, dpi_guessed, dpi_unknown, dpi_state_bytes)
VALUES (1, 'replay', 1700000000000000, 1700003600000000, 'matrix.json',
    '{"format":"fluxaudit-matrix/1","hosts":{"pacs":["10.10.2.10"],"ntp":["10.10.2.20"],'
    || '"web":["10.10.2.7"]},"devices":[{"name":"ct","addresses":["10.10.1.20"],"flows":['
    || '{"id":"F1","from":"device","to":"pacs","proto":"tcp","port":104},'
    || '{"id":"F2","from":"device","to":"ntp","proto":"udp","port":123},'
    || '{"id":"F3","from":"device","to":"web","proto":"tcp","port":443}]}]}',
    '["day1.pcap"]', 1000, 640000, 990, 2, 8, 0, 1, 1700000000000000, 1700000900000000,
    0, 0, 12, 40, 30, 0, 10, 35, 3, 2, 0);

INSERT INTO results (session_id, is_finding, device, code, variant, risk, matrix_flow, client,
    server, proto, port, app, first_usec, last_usec, connections, packets, bytes, evidence)
VALUES
 (1, 0, 'ct', NULL, NULL, NULL, 'F1', '10.10.1.20', '10.10.2.10', 6, 104, 'DICOM',
  1700000000000000, 1700000600000000, 3, 30, 3000, '[]'),
 (1, 0, 'ct', NULL, NULL, NULL, NULL, '10.10.1.20', '10.10.9.9', 6, 8080, 'HTTP',
  1700000100000000, 1700000105000000, 1, 5, 500, '[]'),
 (1, 1, 'ct', 'FLOW_UNDECLARED', NULL, NULL, NULL, '10.10.1.20', '10.10.9.9', 6, 8080, 'HTTP',
  1700000100000000, 1700000105000000, 1, 5, 500,
  '[["direction","outbound"],["peer","10.10.9.9 \"lab\""]]'),
 (1, 1, 'ct', 'FLOW_NOT_OBSERVED', NULL, NULL, 'F2', 'device', 'ntp', 17, 123, '',
  0, 0, 0, 0, 0, '[["declared_proto","udp"],["declared_port","123"]]'),
 (1, 1, 'ct', 'FLOW_NOT_OBSERVED', NULL, NULL, 'F3', 'device', 'web', 6, 443, '',
  0, 0, 0, 0, 0, '[["declared_proto","tcp"],["declared_port","443"]]');
