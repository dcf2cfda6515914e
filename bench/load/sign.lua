-- bench/load/sign.lua: wrk script of bench/server_load.sh.
--
--   wrk ... -s sign.lua URL -- KIND DIR [TOKEN]
--
-- KIND pkictl: POST /v1/connect/ca/sign, bodies DIR/pkictl/NNN.json, header X-Consul-Token: TOKEN;
--      an answer counts if its status is 200 and it holds a "CertPEM".
-- KIND cfssl:  POST /api/v1/cfssl/sign, bodies DIR/cfssl/NNN.json; an answer counts if its
--      status is 200 and it holds "success":true.
-- Each thread walks the whole pool of CSRs (from a different starting point), one per request.
-- done() prints one line "RESULT {json}" with the counts and latency percentiles (us); a run with
-- bad > 0 or socket errors is invalid (bench/server_report.py says so).

local threads = {}
local counter = 1

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local reqs, n, i = {}, 0, 0
local want
-- globals: done() reads them from each thread with thread:get()
ok, bad, first_bad = 0, 0, nil

local function read_file(path)
  local f = io.open(path, "rb")
  if f == nil then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

function init(args)
  local kind, dir, token = args[1], args[2], args[3]
  local path, headers = nil, {["Content-Type"] = "application/json"}
  if kind == "pkictl" then
    path, want = "/v1/connect/ca/sign", '"CertPEM"'
    headers["X-Consul-Token"] = token
  elseif kind == "cfssl" then
    path, want = "/api/v1/cfssl/sign", '"success":true'
  else
    error("sign.lua: KIND must be pkictl or cfssl, not " .. tostring(kind))
  end
  for k = 0, 9999 do
    local body = read_file(string.format("%s/%s/%03d.json", dir, kind, k))
    if body == nil then break end
    n = n + 1
    reqs[n] = wrk.format("POST", path, headers, body)
  end
  if n == 0 then error("sign.lua: no bodies in " .. tostring(dir) .. "/" .. kind) end
  i = (id * 17) % n  -- threads start at different CSRs
end

function request()
  i = i % n + 1
  return reqs[i]
end

function response(status, headers, body)
  if status == 200 and body ~= nil and string.find(body, want, 1, true) then
    ok = ok + 1
  else
    bad = bad + 1
    if first_bad == nil then
      first_bad = tostring(status) .. " " .. string.sub(tostring(body), 1, 160)
    end
  end
end

local function json_str(s)
  return '"' .. string.gsub(s, '[%c"\\]', function(c)
    return string.format("\\u%04x", string.byte(c))
  end) .. '"'
end

function done(summary, latency, requests)
  local tok, tbad, sample = 0, 0, ""
  for _, t in ipairs(threads) do
    tok = tok + t:get("ok")
    tbad = tbad + t:get("bad")
    local fb = t:get("first_bad")
    if fb ~= nil and sample == "" then sample = fb end
  end
  local e = summary.errors
  io.write(string.format('RESULT {"requests": %d, "duration_us": %d, "ok": %d, "bad": %d, ' ..
    '"first_bad": %s, "errors": {"connect": %d, "read": %d, "write": %d, "status": %d, ' ..
    '"timeout": %d}, "p50_us": %d, "p90_us": %d, "p99_us": %d, "p999_us": %d, ' ..
    '"max_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, tok, tbad, json_str(sample), e.connect, e.read,
    e.write, e.status, e.timeout, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9), latency.max, latency.mean))
end
