#!/usr/bin/env bash
# A session against a running main job (npm start), with bash, curl and node only (no jq): find the
# demo zone's ids, deploy an instance on the demo-shared network (so its NIC gets an address), poll
# the job until it finishes, stop the instance, and print the usage events billing consumers see.
#
#   bash scripts/session.sh
#
# Settings (environment):
#   VMLEDGER_URL      the GraphQL endpoint; default http://$HOST:$PORT/graphql (127.0.0.1:4000)
#   VMLEDGER_API_KEY  the API key; default $VMLEDGER_ADMIN_API_KEY, else the key npm start generated
#                     in $VMLEDGER_DATA_DIR/admin-api-key (./data)
#   VM_NAME           the instance's name; default web-<random number>
#   JOB_TIMEOUT_S     how long to wait for a job; default 120
#   START_TIMEOUT_S   how long to wait for the server to answer GET /healthz; default 120, so that
#                     `npm start & bash scripts/session.sh` works while npm start still builds
# Each request and its answer's gist are printed; the last line is VM=<the instance's id>.
set -euo pipefail

URL=${VMLEDGER_URL:-http://${HOST:-127.0.0.1}:${PORT:-4000}/graphql}
HEALTH_URL=${URL%/graphql}/healthz
deadline=$((SECONDS + ${START_TIMEOUT_S:-120}))
until curl -sf -o /dev/null "$HEALTH_URL"; do
  ((SECONDS < deadline)) || { echo "no answer from $HEALTH_URL: is the main job (npm start) running there?" >&2; exit 1; }
  sleep 0.5
done

KEY=${VMLEDGER_API_KEY:-${VMLEDGER_ADMIN_API_KEY:-}}
if [[ -z $KEY ]]; then
  key_file=${VMLEDGER_DATA_DIR:-data}/admin-api-key
  [[ -r $key_file ]] || { echo "no API key: set VMLEDGER_API_KEY, or run where $key_file is" >&2; exit 2; }
  KEY=$(<"$key_file")
fi
NAME=${VM_NAME:-web-$RANDOM}
TIMEOUT_S=${JOB_TIMEOUT_S:-120}

# vars NAME VALUE ...: a JSON object of string variables (ids and names need no quoting by hand).
vars() {
  node -e 'const a = process.argv.slice(1), o = {}; for (let i = 0; i < a.length; i += 2) o[a[i]] = a[i + 1]; process.stdout.write(JSON.stringify(o))' "$@"
}

# gql QUERY [VARIABLES_JSON]: POSTs the operation and prints its `data` as JSON; on GraphQL errors
# prints them (code, message) to stderr and fails.
gql() {
  local body
  body=$(node -e 'process.stdout.write(JSON.stringify({ query: process.argv[1], variables: JSON.parse(process.argv[2]) }))' "$1" "${2:-"{}"}")
  curl -sS "$URL" -H 'content-type: application/json' -H "Authorization: Bearer $KEY" --data-binary "$body" |
    node -e '
      let text = "";
      process.stdin.on("data", (chunk) => (text += chunk)).on("end", () => {
        let answer;
        try { answer = JSON.parse(text); } catch { console.error(`not a GraphQL answer: ${text.slice(0, 500)}`); process.exit(1); }
        for (const e of answer.errors ?? []) console.error(`${e.extensions?.code ?? "ERROR"} ${e.extensions?.errorCode ?? ""}: ${e.message}`);
        if (answer.errors?.length || !answer.data) process.exit(1);
        process.stdout.write(JSON.stringify(answer.data));
      });'
}

# js EXPRESSION: evaluates a JavaScript expression over the JSON on stdin (as `d`) and prints it
# (strings as they are, anything else as JSON); fails when it is undefined or null.
js() {
  node -e '
    let text = "";
    process.stdin.on("data", (chunk) => (text += chunk)).on("end", () => {
      const value = new Function("d", `return (${process.argv[1]});`)(JSON.parse(text));
      if (value === undefined || value === null) { console.error(`nothing at ${process.argv[1]}`); process.exit(1); }
      process.stdout.write(typeof value === "string" ? value : JSON.stringify(value));
    });' "$1"
}

JOB_FIELDS='id cmd status createdAt error { code errorCode message }
  result { id name state hostId nics { networkId ipAddress isDefault } volumes { id type size } }'

# wait_job ID: polls asyncJob until it is no longer PENDING; prints the job; fails if it FAILED.
wait_job() {
  local job status deadline=$((SECONDS + TIMEOUT_S))
  while :; do
    job=$(gql "query(\$id: ID!) { asyncJob(id: \$id) { $JOB_FIELDS } }" "$(vars id "$1")" | js 'd.asyncJob')
    status=$(js 'd.status' <<<"$job")
    [[ $status != PENDING ]] && break
    ((SECONDS < deadline)) || { echo "job $1 is still PENDING after ${TIMEOUT_S}s" >&2; exit 1; }
    sleep 0.2
  done
  if [[ $status != SUCCEEDED ]]; then
    echo "job $1 $status: $(js 'd.error ? `${d.error.code} ${d.error.errorCode}: ${d.error.message}` : "no error"' <<<"$job")" >&2
    exit 1
  fi
  printf '%s' "$job"
}

echo "# the demo zone's ids ($URL)"
ids=$(gql '{ zones { nodes { id name } } serviceOfferings { nodes { id name } } templates { nodes { id name } }
  networks { nodes { id name zoneId cidr } } }')
named() { js "(d.$1.nodes.find((n) => n.name === '$2') ?? {}).id" <<<"$ids" ||
  { echo "no $2 among the $1: is the demo zone seeded (an empty data directory, VMLEDGER_DEMO=1)?" >&2; exit 1; }; }
ZONE=$(named zones demo-zone)
OFFERING=$(named serviceOfferings 'Small Instance')
TEMPLATE=$(named templates demo-linux)
NETWORK=$(named networks demo-shared)
echo "zone $ZONE, offering $OFFERING, template $TEMPLATE, network demo-shared $NETWORK"

echo "# deployVirtualMachine $NAME on demo-shared (returns a job at once), then poll the job"
DEPLOY_JOB=$(gql 'mutation($zoneId: ID!, $serviceOfferingId: ID!, $templateId: ID!, $networkId: ID!, $name: String!) {
  deployVirtualMachine(zoneId: $zoneId, serviceOfferingId: $serviceOfferingId, templateId: $templateId,
    networkIds: [$networkId], name: $name) { id status } }' \
  "$(vars zoneId "$ZONE" serviceOfferingId "$OFFERING" templateId "$TEMPLATE" networkId "$NETWORK" name "$NAME")" |
  js 'd.deployVirtualMachine.id')
echo "job $DEPLOY_JOB PENDING"
deployed=$(wait_job "$DEPLOY_JOB")
VM=$(js 'd.result.id' <<<"$deployed")
SINCE=$(js 'd.createdAt' <<<"$deployed")
js '`job ${d.id} ${d.status}: ${d.result.name} (${d.result.id}) ${d.result.state} on host ${d.result.hostId}, address ${d.result.nics.find((n) => n.isDefault).ipAddress}`' <<<"$deployed"
echo

echo "# stopVirtualMachine, then poll its job"
STOP_JOB=$(gql 'mutation($id: ID!) { stopVirtualMachine(id: $id) { id status } }' "$(vars id "$VM")" | js 'd.stopVirtualMachine.id')
stopped=$(wait_job "$STOP_JOB")
js '`job ${d.id} ${d.status}: ${d.result.name} ${d.result.state}`' <<<"$stopped"
echo

echo "# the usage events of $NAME and its volumes, as billing consumers read them from the log"
volumes=$(js 'd.result.volumes.map((v) => v.id)' <<<"$deployed")
after=null
while :; do
  page=$(gql 'query($since: DateTime, $after: String) { usageEvents(startDate: $since, first: 500, after: $after) {
    nodes { position type resourceId resourceName offeringId size occurredAt } pageInfo { hasNextPage endCursor } } }' \
    "$(node -e 'process.stdout.write(JSON.stringify({ since: process.argv[1], after: JSON.parse(process.argv[2]) }))' "$SINCE" "$after")")
  js "d.usageEvents.nodes.filter((e) => e.resourceId === '$VM' || $volumes.includes(e.resourceId))
    .map((e) => [e.position, e.type, e.resourceName, e.offeringId ?? '-', e.size ?? '-', e.occurredAt].join('  ') + '\n').join('')" <<<"$page"
  [[ $(js 'd.usageEvents.pageInfo.hasNextPage' <<<"$page") == true ]] || break
  after=$(js 'JSON.stringify(d.usageEvents.pageInfo.endCursor)' <<<"$page")
done
echo "VM=$VM"
