/**
 * `npm run call -- --rule <id> --caller <number> [--did <number>] [--dtmf <digits>]
 *                  [--agi host:port] [--ami-port 5038] [--end answered|missed|busy|abandoned|queue|queue-empty|outbound]`
 *
 * Plays one call into the running reference host as Asterisk would: it stands in for Asterisk's
 * AMI (a fake AMI server the host's AMI client logs in to) and places the call over FastAGI,
 * then prints the dialogue and where the call ended up. The host routes only calls from dialplan
 * lines it signed: `--rule` signs the line with the host's key (SECRET_KEY or DATA_DIR/secret.key,
 * DIALPLAN_KEY when set), as the DIDs page would; `--line` takes a line copied from that page.
 * `--end` then plays how the call ended, as Asterisk 22 reports it on AMI (the measured events of
 * shared/reference/asterisk.md), so the host's call log assembles it; when the host logs calls
 * into a CRM, it then prints where the call was logged (read from the host's database).
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parseAmiUrl } from '../src/ami/ami-url';
import { agiScript } from '../src/call/dialplan';
import { DialplanSigner } from '../src/call/dialplan-signature';
import { readManifest } from '../src/config';
import { pluginTables } from '../src/store/tables';
import { describeHostDatabase, hostDataEnv, hostDialplanSigning, openHostDatabase, readEnv } from './host/host-data';
import { callLogsConfigured, describeLoggedCall, waitForLoggedCall } from './lib/call-log-status';
import { AsteriskSimulator, type CallResult } from './lib/asterisk-simulator';
import { FakeAmiServer } from './lib/fake-ami';
import { END_OF_CALL_TRANSCRIPTS, END_SCENARIOS, type EndScenario } from './lib/end-of-call/end-of-call-transcripts';
import { playEndOfCall, renderEndOfCall } from './lib/end-of-call/end-of-call-player';

const USAGE = `Usage: npm run call -- --rule <id> --caller <number> [options]
       npm run call -- --line '<AGI URL from the DIDs page>' --caller <number> [options]

  --rule <id>            the CRM Routing rule; the line is signed with the host's key (SECRET_KEY,
                         DIALPLAN_KEY or DATA_DIR/secret.key, as the host reads them)
  --tenant <id>          the rule's tenant (default "default", the admin's)
  --line <url>           the AGI URL of a dialplan line, e.g. agi://127.0.0.1:4573/crm-routing?rule=1&tenant=default&sig=...
  --caller <number>      caller ID number; "none" for a call without caller ID
  --caller-name <name>   caller ID name (default "Simulated Caller")
  --did <number>         the dialled number (default 5551234)
  --dtmf <digits>        keys the caller presses once the greeting starts (IVR rules)
  --hangup-after <ms>    the caller hangs up this long into the call
  --agi <host:port>      the host's FastAGI server (default 127.0.0.1:$AGI_PORT, else 4573)
  --ami-port <port>      where the fake AMI listens (default: AMI_URL's port, else 5038)
  --no-ami               do not start the fake AMI (the host then moves calls with AGI alone)
  --ami-wait <ms>        how long to wait for the host's AMI login (default 12000)
  --timeout <ms>         give the call up after this long (default 30000)
  --end <how>            after the routing, play how the call ended with Asterisk's measured AMI
                         events (Cdr, CEL, Dial, Hangup, queue), for the host's call log:
                         answered | missed | busy | abandoned | abandoned-unanswered | queue |
                         queue-empty | outbound (outbound: no routing; --agent calls --caller)
  --agent <extension>    the extension that answers, rings or (outbound) calls (default 100)
  --pace <factor>        1 plays the events at the measured pace (default), 0 all at once
  --log-wait <ms>        with --end: how long to wait for the host's call log to write the call
                         into the CRMs it logs calls to (default 15000; read from DATABASE_URL or
                         DATA_DIR, as the host does)`;

function fail(message: string): never {
  console.error(`${message}\n\n${USAGE}`);
  process.exit(2);
}

function whole(text: string | undefined, name: string, fallback: number): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text)) fail(`--${name} must be a whole number (got "${text}").`);
  return Number(text);
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        rule: { type: 'string' },
        tenant: { type: 'string' },
        line: { type: 'string' },
        caller: { type: 'string' },
        'caller-name': { type: 'string' },
        did: { type: 'string' },
        dtmf: { type: 'string' },
        'hangup-after': { type: 'string' },
        agi: { type: 'string' },
        'ami-port': { type: 'string' },
        'no-ami': { type: 'boolean' },
        'ami-wait': { type: 'string' },
        timeout: { type: 'string' },
        end: { type: 'string' },
        agent: { type: 'string' },
        pace: { type: 'string' },
        'log-wait': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    fail((err as Error).message);
  }
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const end = values.end as EndScenario | undefined;
  if (end !== undefined && !END_SCENARIOS.includes(end)) fail(`--end must be one of ${END_SCENARIOS.join(', ')} (got "${values.end}").`);
  if (end !== undefined && values['no-ami']) fail('--end plays AMI events: it needs the fake AMI (drop --no-ami, start the host with AMI_URL).');
  const agent = values.agent ?? '100';
  if (!/^[0-9*#+]{1,32}$/.test(agent)) fail(`--agent must be an extension number (got "${agent}").`);
  const pace = values.pace === undefined ? 1 : Number(values.pace);
  if (!Number.isFinite(pace) || pace < 0 || pace > 10) fail(`--pace must be a number from 0 to 10 (got "${values.pace}").`);
  const logWaitMs = whole(values['log-wait'], 'log-wait', 15_000);
  const outbound = end === 'outbound';
  if (!outbound && values.rule === undefined && values.line === undefined) fail('--rule <id> is required: the rule id shown on CRM > Routing (or --line with a line from the DIDs page).');
  if (values.rule !== undefined && !/^\d+$/.test(values.rule)) fail(`--rule must be a rule id, a whole number (got "${values.rule}").`);
  const script = outbound ? '' : values.line !== undefined ? scriptOfLine(values.line) : signedScript(Number(values.rule), values.tenant ?? 'default');
  if (values.caller === undefined) fail('--caller <number> is required ("none" for a call without caller ID).');
  const did = values.did ?? '5551234';
  if (!/^[0-9*#+]+$/.test(did)) fail(`--did must be a dialled number (got "${did}").`);
  if (values.dtmf !== undefined && !/^[0-9*#A-D]+$/.test(values.dtmf)) fail('--dtmf takes keys 0-9 * # A-D.');
  const [agiHost = '127.0.0.1', agiPortText] = (values.agi ?? `127.0.0.1:${process.env.AGI_PORT ?? 4573}`).split(/:(?=\d+$)/);
  const agiPort = whole(agiPortText, 'agi port', 4573);
  const amiSettings = process.env.AMI_URL ? parseAmiUrl(process.env.AMI_URL) : undefined;
  const amiPort = whole(values['ami-port'], 'ami-port', amiSettings?.port ?? 5038);
  const username = amiSettings?.username ?? 'crm';
  const secret = amiSettings?.secret ?? 'crmsecret';

  const asterisk = new AsteriskSimulator({ maxCallMs: whole(values.timeout, 'timeout', 30_000) });
  let ami: FakeAmiServer | undefined;
  const shutdown = async () => {
    asterisk.close();
    await ami?.close();
  };
  process.once('SIGINT', () => void shutdown().then(() => process.exit(130)));

  if (!values['no-ami']) {
    try {
      ami = await FakeAmiServer.create({ port: amiPort, username, secret, channels: asterisk });
    } catch (err) {
      fail(`Cannot start the fake AMI on 127.0.0.1:${amiPort}: ${(err as Error).message}. Is a real Asterisk or another simulator using it? Try --ami-port or --no-ami.`);
    }
    const waitMs = whole(values['ami-wait'], 'ami-wait', 12_000);
    console.log(`Fake AMI listening on 127.0.0.1:${amiPort} (user ${username}); waiting up to ${waitMs / 1000} s for the host to log in...`);
    if (await ami.waitForLogin(waitMs)) {
      // Login is not the end of a client's set-up (ours switches events off next).
      await new Promise((resolve) => setTimeout(resolve, 300));
      console.log('The host logged in to AMI: it will move the call with AMI Redirect.');
    } else {
      // Never echo a secret that came from the environment.
      const url = amiSettings ? '"$AMI_URL"' : `ami://${username}:${secret}@127.0.0.1:${amiPort}`;
      console.log(
        'The host did not log in to AMI. It probably runs without AMI_URL, so it moves calls with AGI alone (SET CONTEXT/EXTENSION/PRIORITY).\n' +
          `To use AMI, start the host with:  AMI_URL=${url} npm start`,
      );
    }
  }

  const callerId = values.caller === 'none' || values.caller === '' ? undefined : values.caller;
  if (outbound) {
    if (!callerId) fail('--end outbound calls the number in --caller: give one.');
    await playEnd(ami!, 'outbound', { agent, dialled: callerId }, pace, logWaitMs);
    await shutdown();
    return;
  }
  console.log(`\nCalling agi://${agiHost}:${agiPort}/${script} from ${callerId ?? '(no caller ID)'} on DID ${did}...\n`);
  const result = await asterisk.placeCall({
    agiHost,
    agiPort,
    script,
    callerId,
    callerName: callerId ? (values['caller-name'] ?? 'Simulated Caller') : undefined,
    did,
    ...(values.dtmf ? { dtmf: { digits: values.dtmf } } : {}),
    ...(values['hangup-after'] !== undefined ? { hangupAfterMs: whole(values['hangup-after'], 'hangup-after', 0) } : {}),
  });
  report(result, agiHost, agiPort, ami);
  if (end !== undefined && ami) {
    await playEnd(ami, end, { caller: callerId, did, agent, inboundChannel: result.channel, inboundUniqueid: result.uniqueid }, pace, logWaitMs);
  }
  await shutdown();
  process.exit(result.ended.kind === 'abandoned' || (result.agiStatus === 'FAILURE' && result.timings.firstCommandAtMs === undefined) ? 1 : 0);
}

/** Plays the measured end of the call through the fake AMI and says what the host should log. */
async function playEnd(ami: FakeAmiServer, end: EndScenario, parties: Parameters<typeof renderEndOfCall>[1], pace: number, logWaitMs: number): Promise<void> {
  const transcript = END_OF_CALL_TRANSCRIPTS[end];
  const rendered = renderEndOfCall(transcript, parties);
  console.log(`\nPlaying the end of the call as Asterisk 22 reported it when measured (${transcript.measured}: ${transcript.summary}):`);
  await playEndOfCall(ami, rendered.events, pace);
  const counts = new Map<string, number>();
  for (const e of rendered.events) {
    const headers = new Map(e.headers);
    const name = headers.get('Event') === 'CEL' ? `CEL ${headers.get('EventName')}` : headers.get('Event')!;
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  console.log(`Sent ${rendered.events.length} AMI events for Linkedid ${rendered.linkedid}: ${[...counts].map(([n, c]) => `${n} ${c}`).join(', ')}`);
  if (ami.sessionStates().every((s) => !s.authenticated || !s.events)) {
    console.log('No logged-in AMI session wanted events: the host did not read them (is it running with AMI_URL?).');
    return;
  }
  console.log('The host logs the finished call about 1.5 s after its last hang-up (LOG_LEVEL=debug npm start shows "Call ended").');
  // Keep the fake AMI up until then, so the host does not see a lost connection first.
  await new Promise((resolve) => setTimeout(resolve, 2000));
  await showCallLog(rendered.linkedid, logWaitMs);
}

/** Where the host's call log put the call (CRM > Call log has the same), when it logs calls at all. */
async function showCallLog(linkedid: string, waitMs: number): Promise<void> {
  const config = readEnv(hostDataEnv);
  if (!config.DATABASE_URL && !fs.existsSync(path.join(config.DATA_DIR, 'pbx.sqlite'))) {
    console.log(`Call log: no host database to read (${describeHostDatabase(config)} does not exist); run with the host's DATABASE_URL or DATA_DIR.`);
    return;
  }
  const db = openHostDatabase(config);
  try {
    const tables = pluginTables(readManifest().tablePrefix);
    const configured = await callLogsConfigured(db, tables);
    if (configured.length === 0) {
      console.log('Call log: no CRM logs calls on this host (CRM > Integration > "Log calls" of a CRM, or the Custom CRM "Call log URL").');
      return;
    }
    const { rows, settled } = await waitForLoggedCall(db, tables, linkedid, waitMs);
    if (rows.length === 0) {
      console.log(`Call log: nothing queued for Linkedid ${linkedid} within ${waitMs / 1000} s (is the host reading AMI events? Its tenant's log options may be off).`);
      return;
    }
    console.log(`\nCall log (CRM > Call log), Linkedid ${linkedid}${settled ? '' : ` (not finished within ${waitMs / 1000} s)`}:`);
    for (const row of rows) console.log(`  ${describeLoggedCall(row)}`);
  } catch (err) {
    console.log(`Call log: could not read the host database (${describeHostDatabase(config)}): ${(err as Error).message}`);
  } finally {
    await db.destroy();
  }
}

/** The path and query of an AGI URL as Asterisk sends them (agi_network_script). */
function scriptOfLine(line: string): string {
  const match = /agi:\/\/[^/\s]+\/([^\s),]+)/.exec(line);
  if (!match) fail(`--line must hold an AGI URL such as agi://127.0.0.1:4573/crm-routing?rule=1&tenant=default&sig=... (got "${line}").`);
  return match[1]!;
}

/** The script of the rule's line, signed with the key the host reads from the same environment. */
function signedScript(ruleId: number, tenantId: string): string {
  const config = readEnv(hostDataEnv);
  const keyFile = path.join(config.DATA_DIR, 'secret.key');
  if (!config.SECRET_KEY && !fs.existsSync(keyFile)) {
    fail(`No key to sign the line with: SECRET_KEY is not set and ${keyFile} does not exist. Start the host once (npm start), or pass --line with a line from the DIDs page.`);
  }
  const secretKey = config.SECRET_KEY ?? fs.readFileSync(keyFile, 'utf8').trim();
  return agiScript({ id: ruleId, tenantId }, 'crm-routing', new DialplanSigner(secretKey, hostDialplanSigning(config)));
}

function report(result: CallResult, agiHost: string, agiPort: number, ami: FakeAmiServer | undefined): void {
  console.log(result.dialogue);
  console.log('');
  const { ended, timings } = result;
  if (ended.kind === 'dialplan') {
    const how = { redirect: 'moved by AMI Redirect', agi: 'moved with AGI SET CONTEXT/EXTENSION/PRIORITY', 'next-priority': 'the dialplan simply went on' }[ended.via];
    console.log(`Ended up at: ${ended.context},${ended.exten},${ended.priority} (${how})`);
  } else if (ended.kind === 'hungup') {
    console.log(`Ended up: hung up (${ended.reason})`);
  } else {
    console.log(`Ended up: abandoned (${ended.reason})`);
  }
  console.log(`AGISTATUS: ${result.agiStatus ?? '(none)'}`);
  if (result.agiStatus === 'FAILURE' && timings.firstCommandAtMs === undefined && ended.kind !== 'abandoned') {
    console.log(`Nothing answered on ${agiHost}:${agiPort}. Is the host running (npm start)? AGI_PORT sets its FastAGI port.`);
  }
  const variables = Object.entries(result.variables).filter(([name]) => name !== 'AGIEXITONHANGUP');
  if (variables.length > 0) console.log(`Channel variables: ${variables.map(([k, v]) => `${k}=${v}`).join(' ')}`);
  if (result.variables.CRM_ROUTING_STATUS === 'FORBIDDEN') {
    console.log("The host refused the line: its signature was not made with the host's key for this rule and tenant. Copy the line from the DIDs page (--line), or run with the host's SECRET_KEY / DATA_DIR.");
  }
  const ms = (n: number | undefined) => (n === undefined ? '-' : `${n.toFixed(1)} ms`);
  console.log(
    `Timings: connect ${ms(timings.connectMs)}; first command ${ms(timings.firstCommandAtMs)}; redirect ${ms(timings.redirectAtMs)}; ` +
      `server closed ${ms(timings.serverClosedAtMs)}; final move ${ms(timings.finalMoveAtMs)} after connect`,
  );
  const redirects = ami?.actionsNamed('redirect') ?? [];
  for (const r of redirects) console.log(`AMI Redirect received: ${r.headers.channel} -> ${r.headers.context},${r.headers.exten},${r.headers.priority}`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
