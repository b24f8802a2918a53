-- wrk script of bench/load.py: one request differs from the next, and each response's status is counted.
--
--   wrk -t2 -c50 -d15s -s bench/load.lua http://127.0.0.1:PORT -- get FILE THREADS
--       each request GETs a line of FILE (a path), drawn at random
--   wrk ... -- post FILE THREADS
--       FILE holds "path<TAB>token<TAB>JSON body" lines; thread k of THREADS takes lines k, k+THREADS, ...
--       in order and POSTs each once, as the task's inspector (Authorization: Bearer token); a thread
--       that has sent all its lines starts them again, and those requests are replays of a key
--
-- At the end it prints one line, "BENCH_LOAD {json}", which bench/load.py reads: requests answered,
-- requests sent (those sent but unanswered were still waiting when wrk stopped), duration, socket
-- errors, latency percentiles (microseconds) and the count of each HTTP status.

local threads = {}
local created = 0

function setup(thread)
  created = created + 1
  thread:set("id", created)
  table.insert(threads, thread)
end

function init(args)
  mode, file, nthreads = args[1], args[2], tonumber(args[3])
  paths, tokens, bodies, statuses = {}, {}, {}, {}
  local i = 0
  for line in io.lines(file) do
    if mode == "get" then
      table.insert(paths, line)
    elseif i % nthreads == id - 1 then
      local path, token, body = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
      table.insert(paths, path)
      table.insert(tokens, "Bearer " .. token)
      table.insert(bodies, body)
    end
    i = i + 1
  end
  math.randomseed(id * 7919)
  position = 0
  -- wrk calls request() once on its first thread to check the script, before sending anything
  sent = (id == 1) and -1 or 0
end

function request()
  sent = sent + 1
  if mode == "get" then
    return wrk.format("GET", paths[math.random(#paths)])
  end
  position = position % #paths + 1
  return wrk.format("POST", paths[position],
                    {["Authorization"] = tokens[position], ["Content-Type"] = "application/json"},
                    bodies[position])
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local counts, sent = {}, 0
  for _, thread in ipairs(threads) do
    sent = sent + thread:get("sent")
    for status, n in pairs(thread:get("statuses")) do
      counts[status] = (counts[status] or 0) + n
    end
  end
  local parts = {}
  for status, n in pairs(counts) do
    table.insert(parts, string.format('"%d": %d', status, n))
  end
  local errors = summary.errors
  io.write(string.format(
    'BENCH_LOAD {"requests": %d, "sent": %d, "duration_us": %d, "bytes": %d, "connect": %d, "read": %d, "write": %d, ' ..
    '"timeout": %d, "non_2xx_3xx": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, "mean_us": %.1f, ' ..
    '"max_us": %d, "statuses": {%s}}\n',
    summary.requests, sent, summary.duration, summary.bytes, errors.connect, errors.read, errors.write,
    errors.timeout, errors.status, latency:percentile(50), latency:percentile(95), latency:percentile(99),
    latency.mean, latency.max, table.concat(parts, ", ")))
end
