<?php
declare(strict_types=1);

/**
 * A fake IPS slave gateway, as a router script for PHP's built-in server:
 *
 *   SLAVE_KEY=<SK> SLAVE_LOG=/tmp/a.jsonl [SLAVE_NAME=A] [SLAVE_CONTROL=/tmp/a.control] \
 *       php -S 127.0.0.1:<port> conformance/ips/fake-slave.php
 *
 * It answers every path (so the slave's gateway URL can be .../ipsconnect.php or anything else) and
 * appends each request it receives to SLAVE_LOG as one JSON line:
 *   {"t":…,"slave":"A","method":"GET","path":…,"query":<raw>,"body":<raw>,"params":{…},"key_ok":true,
 *    "expected_key_kind":"md5(SK.id)","response":303,"cookie":"set"}
 *
 * Key checks (spec §1.8): `register` from the master carries the raw SK; every other master→slave call
 * (`slaveCall=1`) and the crossLogin/logout hops carry md5(SK . id) over the raw id string.
 *
 * Browser hops (do=crossLogin / do=logout): valid key → sets (or clears) cookie slave_session=<id>
 * and 303s to returnTo; bad key → 403 HTML page (like an IPS 4.1+ slave with a failed check).
 * JSON calls: {"status":"SUCCESS"} ({"status":"SUCCESS","connect_id":<n>} for register), BAD_KEY on a
 * bad key; a control file can force an answer for the next N JSON calls:
 *   {"status":"DISABLED","remaining":1}          → 200 {"status":"DISABLED"}
 *   {"http":500,"body":"<html>oops</html>","remaining":1}   → that HTTP code and raw body
 *   {"sleep":3,"remaining":1}                    → delay, then the normal answer
 * optionally restricted to requests carrying given parameters: "match":{"do":"changeName","name":"x"}
 */

$sk = (string) getenv('SLAVE_KEY');
$log = (string) getenv('SLAVE_LOG');
$name = (string) (getenv('SLAVE_NAME') ?: 'slave');
$control = (string) (getenv('SLAVE_CONTROL') ?: ($log !== '' ? $log . '.control' : ''));

$method = $_SERVER['REQUEST_METHOD'] ?? 'GET';
$uri = $_SERVER['REQUEST_URI'] ?? '/';
$path = parse_url($uri, PHP_URL_PATH) ?: '/';
$query = $_SERVER['QUERY_STRING'] ?? '';
$body = file_get_contents('php://input') ?: '';

// IPS semantics: $_GET, then $_POST overrides.
$params = $_GET;
foreach ($_POST as $k => $v) {
    $params[$k] = $v;
}
$str = static fn (string $k): ?string => isset($params[$k]) && is_string($params[$k]) ? $params[$k] : null;

$do = $str('do');
$key = $str('key') ?? '';
$id = $str('id');
$slaveCall = $str('slaveCall') === '1';

$entry = [
    't' => microtime(true),
    'slave' => $name,
    'method' => $method,
    'path' => $path,
    'query' => $query,
    'body' => $body,
    'params' => $params,
    'cookies' => $_COOKIE,
    'referer' => $_SERVER['HTTP_REFERER'] ?? null,
];

$keyOk = false;
$kind = null;
if ($do !== null && $sk !== '') {
    if ($do === 'register') {
        $kind = 'SK';
        $keyOk = hash_equals($sk, $key);
    } elseif ($id !== null) {
        $kind = 'md5(SK.id)';
        $keyOk = hash_equals(md5($sk . $id), $key);
    } else {
        $kind = 'md5(SK.id) but no id';
    }
}
$entry['key_ok'] = $keyOk;
$entry['expected_key_kind'] = $kind;

function finish(array $entry, string $log, int $code, array $headers, string $out): never
{
    $entry['response'] = $code;
    $entry['response_body'] = strlen($out) > 300 ? substr($out, 0, 300) : $out;
    if ($log !== '') {
        $fh = fopen($log, 'ab');
        if ($fh) {
            flock($fh, LOCK_EX);
            fwrite($fh, json_encode($entry, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_INVALID_UTF8_SUBSTITUTE) . "\n");
            fflush($fh);
            flock($fh, LOCK_UN);
            fclose($fh);
        }
    }
    http_response_code($code);
    foreach ($headers as $h) {
        header($h, false);
    }
    echo $out;
    exit;
}

$errorPage = '<!DOCTYPE html><html><head><title>Error</title></head><body><p>There was an error processing your login request at one of the sites in our network (fake slave ' . htmlspecialchars($name) . ', 2S165/1).</p></body></html>';

// ---- browser hops -------------------------------------------------------------------------------
if ($do === 'crossLogin' || $do === 'logout') {
    $returnTo = $str('returnTo');
    if (!$keyOk || !$slaveCall || $id === null || $returnTo === null || $returnTo === '') {
        $entry['why'] = !$keyOk ? 'bad key' : (!$slaveCall ? 'no slaveCall=1' : 'missing id/returnTo');
        finish($entry, $log, 403, ['Content-Type: text/html; charset=UTF-8'], $errorPage);
    }
    if ($do === 'crossLogin') {
        $entry['cookie'] = 'set';
        $cookie = 'Set-Cookie: slave_session=' . rawurlencode($id) . '; Path=/; HttpOnly; SameSite=Lax';
    } else {
        $entry['cookie'] = 'cleared';
        $cookie = 'Set-Cookie: slave_session=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax';
    }
    finish($entry, $log, 303, [$cookie, 'Location: ' . $returnTo, 'Content-Type: text/html; charset=UTF-8'], '');
}

// ---- anything that is not a Connect call (e.g. the final landing page) ---------------------------
if ($do === null) {
    finish($entry, $log, 200, ['Content-Type: text/html; charset=UTF-8'], "<!DOCTYPE html><p>fake slave $name</p>");
}

// ---- JSON calls from the master ------------------------------------------------------------------
$forced = null;
if ($control !== '' && is_file($control)) {
    $fh = fopen($control, 'c+b');
    if ($fh) {
        flock($fh, LOCK_EX);
        $ctl = json_decode((string) stream_get_contents($fh), true);
        $left = 1;
        $applies = is_array($ctl);
        foreach ((is_array($ctl) && is_array($ctl['match'] ?? null) ? $ctl['match'] : []) as $mk => $mv) {
            if (!isset($params[$mk]) || $params[$mk] !== (string) $mv) {
                $applies = false; // forced answer reserved for another request
            }
        }
        if ($applies) {
            $forced = $ctl;
            $left = (int) ($ctl['remaining'] ?? 1) - 1;
            ftruncate($fh, 0);
            rewind($fh);
            if ($left > 0) {
                $ctl['remaining'] = $left;
                fwrite($fh, (string) json_encode($ctl));
            }
        }
        fflush($fh);
        if ($left <= 0) {
            @unlink($control);
        }
        flock($fh, LOCK_UN);
        fclose($fh);
    }
}
$entry['forced'] = $forced;

if ($forced !== null && isset($forced['sleep'])) {
    usleep((int) ((float) $forced['sleep'] * 1e6));
}
if ($forced !== null && isset($forced['http'])) {
    finish($entry, $log, (int) $forced['http'], ['Content-Type: text/html; charset=UTF-8'], (string) ($forced['body'] ?? '<html><body>Internal Server Error</body></html>'));
}
if ($forced !== null && isset($forced['status'])) {
    finish($entry, $log, 200, ['Content-Type: application/json'], json_encode(['status' => (string) $forced['status']]));
}

if (!$keyOk) {
    finish($entry, $log, 200, ['Content-Type: application/json'], json_encode(['status' => 'BAD_KEY']));
}
if (!$slaveCall) {
    // A real slave would not expect master traffic without slaveCall=1; the key was right though.
    finish($entry, $log, 200, ['Content-Type: application/json'], json_encode(['status' => 'SUCCESS']));
}
if ($do === 'register') {
    // IPS slaves answer with their own local id, which the master ignores.
    $local = 1000 + (int) (hexdec(substr(md5((string) $str('email')), 0, 6)) % 100000);
    finish($entry, $log, 200, ['Content-Type: application/json'], json_encode(['status' => 'SUCCESS', 'connect_id' => $local]));
}
finish($entry, $log, 200, ['Content-Type: application/json'], json_encode(['status' => 'SUCCESS']));
