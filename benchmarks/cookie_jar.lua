-- wrk keeps cookies as a browser does (benchmarks/http.py loads both apps with it).
-- Starts with the cookies given after `--` on wrk's command line ("name=value; name=value") and
-- sends back whatever the server sets in their place. Without it, wrk would send the cookie it
-- started with for ever: Signpost notes a session's activity in its cookie every 30 seconds, so
-- after the first 30 seconds every request would write a new cookie, which no browser causes.
-- Each of wrk's threads has its own jar, like a browser's tab of its own.
-- Counts every answer other than 200 (a redirect to sign in would otherwise pass for a fast page)
-- and prints the total last, as "not 200: N", for benchmarks/http.py to check.
local jar, order = {}, {}
not_ok = 0
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

local function keep(name, value)
  if jar[name] == nil then table.insert(order, name) end
  jar[name] = value
end

function init(args)
  for pair in string.gmatch(args[1] or "", "[^;]+") do
    local name, value = pair:match("^%s*([^=]+)=(.*)$")
    if name then keep(name, value) end
  end
end

function request()
  if #order > 0 then
    local parts = {}
    for _, name in ipairs(order) do table.insert(parts, name .. "=" .. jar[name]) end
    wrk.headers["Cookie"] = table.concat(parts, "; ")
  end
  return wrk.format()
end

-- wrk gives one value per header name, the last: enough for Signpost, which sets one cookie.
function response(status, headers, body)
  if status ~= 200 then not_ok = not_ok + 1 end
  for header, set in pairs(headers) do
    if header:lower() == "set-cookie" then
      local name, value = set:match("^%s*([^=]+)=([^;]*)")
      if name then keep(name, value) end
    end
  end
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do total = total + thread:get("not_ok") end
  io.write(string.format("not 200: %d\n", total))
end
