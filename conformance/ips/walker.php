<?php
declare(strict_types=1);

/**
 * Step-by-step crossLogin / logout walker (spec §2.6, §2.7, §4, §8.11, D14).
 *
 * Plays slave A's server (fetchSalt + login, as an IPS slave does before sending the browser to the
 * master) and a browser that never follows redirects by itself: every 303 is inspected — status,
 * Location host/path, parameter order, per-slave key md5(SK . id), slaveCall, url, the opaque master
 * continue URL, cookies per site — before it is followed. Output: TAP, exit 1 on any failure.
 */

require __DIR__ . '/lib.php';
Conf::load();

$MK = Conf::$mk;
$SA = Conf::$sa;
$SB = Conf::$sb;
$SK = ['A' => Conf::$ska, 'B' => Conf::$skb];
$SURL = ['A' => $SA, 'B' => $SB];
$LOGS = ['A' => new SlaveLog('A', Conf::$logA), 'B' => new SlaveLog('B', Conf::$logB)];
$RUN = rnd(6);

const ALICE_SALT = 'abcdefghijklmnopqrstuv';
const ALICE_HASH = '$2a$13$abcdefghijklmnopqrstuufJyGQz74MaXA58G4n4SAlu8WLjGODFe';
const HOP_ORDER = ['do', 'key', 'id', 'slaveCall', 'url', 'returnTo'];

$gatewayOrigin = origin_of(Conf::$mu);
$publicUrl = rtrim(env('IPS_MASTER_PUBLIC_URL', ''), '/');
$publicOrigin = $publicUrl !== '' ? origin_of($publicUrl) : null;
$originA = preg_replace('#^(https?://[^/]+).*$#', '$1', $SA);
$originB = preg_replace('#^(https?://[^/]+).*$#', '$1', $SB);

/** The master is reachable at its gateway; a Location on its public URL is served by the same gateway. */
function is_master(string $url): bool
{
    global $gatewayOrigin, $publicOrigin;
    $o = origin_of($url);
    return $o === $gatewayOrigin || ($publicOrigin !== null && $o === $publicOrigin);
}

function to_gateway(string $url): string
{
    global $gatewayOrigin, $publicOrigin;
    if ($publicOrigin !== null && origin_of($url) === $publicOrigin && $publicOrigin !== $gatewayOrigin) {
        $p = parse_url($url);
        $g = parse_url(Conf::$mu);
        $port = isset($g['port']) ? ':' . $g['port'] : '';
        return $g['scheme'] . '://' . $g['host'] . $port . ($p['path'] ?? '/') . (isset($p['query']) ? '?' . $p['query'] : '');
    }
    return $url;
}

function slave_of(string $url): ?string
{
    global $SURL;
    foreach ($SURL as $s => $u) {
        if (strip_query($url) === $u) {
            return $s;
        }
    }
    return null;
}

/** @return array<string,string> */
function qmap(string $url): array
{
    $q = (string) (parse_url($url, PHP_URL_QUERY) ?? '');
    $m = [];
    foreach (query_pairs($q) as [$k, $v]) {
        $m[$k] = $v;
    }
    return $m;
}

function qnames(string $url): array
{
    return array_map(fn ($p) => $p[0], query_pairs((string) (parse_url($url, PHP_URL_QUERY) ?? '')));
}

function browser_start(string $do, string $id, string $returnTo, ?string $key = null, ?string $origUrl = null, array $extra = []): string
{
    global $MK;
    return url_with(Conf::$mu, ips_query(['do' => $do, 'key' => $key ?? key_for($MK, $id), 'url' => $origUrl, 'id' => $id, 'returnTo' => $returnTo] + $extra));
}

/** Session cookies set (not cleared) by a response. @return list<array> */
function cookies_set(Resp $r): array
{
    return array_values(array_filter(array_map('parse_set_cookie', $r->headersNamed('set-cookie')), fn ($c) => !$c['cleared']));
}

/** @return list<array> */
function cookies_cleared(Resp $r): array
{
    return array_values(array_filter(array_map('parse_set_cookie', $r->headersNamed('set-cookie')), fn ($c) => $c['cleared']));
}

function expect_403(Resp $r, string $desc): void
{
    $ct = strtolower((string) $r->header('content-type'));
    ok(
        $r->status === 403 && str_starts_with($ct, 'text/html') && $r->header('location') === null && count($r->headersNamed('set-cookie')) === 0,
        "$desc → 403 HTML page, no redirect, no cookie",
        ["HTTP {$r->status} content-type=" . ($ct ?: '-') . ' location=' . ($r->header('location') ?? '-'), 'set-cookie: ' . show($r->headersNamed('set-cookie')), 'body: ' . show(substr($r->body, 0, 300))],
    );
    ok(!str_contains($r->body, 'BAD_KEY') && !str_contains($r->body, 'INVALID_REDIRECTION') && !str_contains($r->body, $GLOBALS['MK']), "$desc: the error page shows no status word and no key (§1.6)", show(substr($r->body, 0, 300)));
}

/** 303 straight to $returnTo without logging in and without visiting any slave. */
function expect_straight(Resp $r, string $returnTo, string $desc, bool $cookieExpected = false): void
{
    $loc = $r->header('location');
    ok($r->status === 303 && $loc !== null && resolve_url($r->url, $loc) === $returnTo, "$desc → 303 straight to returnTo", ["HTTP {$r->status} Location: " . show($loc), 'expected: ' . $returnTo]);
    if ($cookieExpected) {
        $set = cookies_set($r);
        ok(count($set) > 0, "$desc: the master session cookie is set", show($r->headersNamed('set-cookie')));
    } else {
        ok(count(cookies_set($r)) === 0, "$desc: no session cookie is set", show($r->headersNamed('set-cookie')));
    }
}

/**
 * Walk a chain started at $start. Asserts each hop; returns ['ok'=>bool, 'slaves'=>list<string>, 'first'=>Resp, 'last_master'=>Resp].
 *
 * @param list<string> $expectSlaves slaves expected to be visited (any order)
 */
function walk(Browser $b, string $do, string $id, string $start, string $returnTo, ?string $origin, array $expectSlaves, string $label): array
{
    global $SK, $SURL, $MK, $LOGS;
    $logFrom = ['A' => $LOGS['A']->count(), 'B' => $LOGS['B']->count()];
    $r = $b->get($start);
    $first = $r;
    $lastMaster = $r;
    $visited = [];
    $continueUrls = [];
    $steps = 0;
    $allGood = true;
    ok($r->status === 303, "$label: step 1 (master) answers 303", $r->describe());
    while ($r->status >= 300 && $r->status < 400 && $steps++ < 25) {
        $loc = $r->header('location');
        if ($loc === null) {
            $allGood = ok(false, "$label: redirect without Location", $r->describe()) && $allGood;
            break;
        }
        $loc = resolve_url($r->url, $loc);
        if ($loc === $returnTo) {
            break; // landed
        }
        if (is_master($loc)) {
            // a slave sent the browser back to the master's continue URL
            $continueUrls[] = $loc;
            $r = $b->get(to_gateway($loc));
            $lastMaster = $r;
            $allGood = ok($r->status === 303, "$label: master continue URL answers 303", $r->describe()) && $allGood;
            continue;
        }
        $s = slave_of($loc);
        if ($s === null) {
            $allGood = ok(false, "$label: redirect to an unexpected place", ['Location: ' . $loc, 'expected a slave gateway, the master, or ' . $returnTo]) && $allGood;
            break;
        }
        $visited[] = $s;
        $q = qmap($loc);
        $hop = "$label: hop " . count($visited) . " to slave $s";
        $allGood = ok(is_master($r->url), "$hop is sent by the master", 'from ' . $r->url) && $allGood;
        $allGood = is(strip_query($loc), $SURL[$s], "$hop goes to the slave's gateway URL (host, port and path)") && $allGood;
        if ($origin !== null) {
            $allGood = is(qnames($loc), HOP_ORDER, "$hop parameters in the order do, key, id, slaveCall, url, returnTo") && $allGood;
            $allGood = is($q['url'] ?? null, $origin, "$hop url = the originating slave's URL") && $allGood;
        }
        $allGood = is($q['do'] ?? null, $do, "$hop do=$do") && $allGood;
        $allGood = is($q['id'] ?? null, $id, "$hop id=$id") && $allGood;
        $allGood = is($q['slaveCall'] ?? null, '1', "$hop slaveCall=1") && $allGood;
        $want = key_for($SK[$s], $id);
        $other = array_map(fn ($k) => key_for($k, $id), array_diff_key($SK, [$s => 1]));
        $allGood = ok(($q['key'] ?? null) === $want, "$hop key = md5(SK($s) . id) = $want", ['got ' . show($q['key'] ?? null), in_array($q['key'] ?? '', $other, true) ? 'that is ANOTHER slave\'s key' : (($q['key'] ?? '') === key_for($MK, $id) ? 'that is md5(MK . id)' : '')]) && $allGood;
        $rt = $q['returnTo'] ?? '';
        $allGood = ok($rt !== '' && is_master($rt), "$hop returnTo is the master's continue URL", show($rt)) && $allGood;
        $allGood = ok(!str_contains($rt, key_for($MK, $id)) && !str_contains($rt, 'origReturn') && !str_contains(strtolower($rt), strtolower(rawurlencode($returnTo))) && !str_contains($rt, $returnTo), "$hop D14: the continue URL carries only a state token (no key, no origReturn)", show($rt)) && $allGood;
        if ($origin !== null && $s === slave_of($origin)) {
            $allGood = ok(false, "$hop: the originating slave must not be visited", $loc) && $allGood;
        }
        $r = $b->get($loc);
        $allGood = ok($r->status === 303 && resolve_url($loc, (string) $r->header('location')) === $rt, "$hop: fake slave $s accepted the key and sent the browser back", $r->describe()) && $allGood;
        $jar = $b->jar($loc);
        if ($do === 'crossLogin') {
            $allGood = is($jar['slave_session'] ?? null, $id, "$hop: slave $s's session cookie is set for #$id") && $allGood;
        } else {
            $allGood = ok(!isset($jar['slave_session']), "$hop: slave $s's session cookie is cleared", show($jar)) && $allGood;
        }
    }
    $finalLoc = $r->header('location');
    $allGood = ok($r->status === 303 && $finalLoc !== null && resolve_url($r->url, $finalLoc) === $returnTo, "$label: the last master response 303s to the original returnTo exactly", ['got:      ' . show($finalLoc) . " (HTTP {$r->status})", 'expected: ' . $returnTo]) && $allGood;
    $allGood = ok(is_master($r->url), "$label: the final redirect comes from the master", $r->url) && $allGood;
    $sortedV = $visited;
    sort($sortedV);
    $sortedE = $expectSlaves;
    sort($sortedE);
    $allGood = is($sortedV, $sortedE, "$label: visits exactly the slaves " . (implode(', ', $expectSlaves) ?: '(none)') . ', each once') && $allGood;
    $allGood = ok(count($continueUrls) === count($visited), "$label: one master continue URL per slave hop", show($continueUrls)) && $allGood;
    // what the fake slaves saw
    foreach (['A', 'B'] as $s) {
        $hits = array_values(array_filter($LOGS[$s]->since($logFrom[$s]), fn ($e) => (entry_params($e)['do'] ?? null) === $do));
        $n = count(array_filter($visited, fn ($v) => $v === $s));
        $keysOk = array_reduce($hits, fn ($c, $e) => $c && ($e['key_ok'] ?? false) === true, true);
        $allGood = ok(count($hits) === $n && $keysOk, "$label: slave $s received $n $do hop(s), key verified by the slave", show(array_map(fn ($e) => ['query' => $e['query'], 'key_ok' => $e['key_ok']], $hits))) && $allGood;
    }
    return ['ok' => $allGood, 'slaves' => $visited, 'first' => $first, 'last_master' => $r, 'continue' => $continueUrls];
}

function slave_login(string $email, string $plain): ?int
{
    global $MK, $SA;
    $s = ips_call('GET', ['do' => 'fetchSalt', 'key' => key_for($MK, $email), 'idType' => '2', 'id' => $email])->json();
    if (!is_array($s) || ($s['status'] ?? null) !== 'SUCCESS' || !is_string($s['pass_salt'] ?? null) || $s['pass_salt'] === '') {
        ok(false, "slave A: fetchSalt($email) → SUCCESS with a salt", show($s));
        return null;
    }
    $hash = slave_hash($plain, $s['pass_salt']);
    $r = ips_call('GET', ['do' => 'login', 'key' => key_for($MK, $email), 'idType' => '2', 'id' => $email, 'password' => $hash]);
    $j = $r->json();
    $good = is_array($j) && ($j['status'] ?? null) === 'SUCCESS' && ($j['connect_status'] ?? null) === 'SUCCESS' && is_int($j['connect_id'] ?? null);
    ok($good, "slave A: server-to-server fetchSalt + login for $email → SUCCESS", $r->describe());
    return $good ? $j['connect_id'] : null;
}

// ================================================================================================
Tap::section('Setup: both slaves registered, Alice in her §8 state, slave A logs her in server-to-server');
// ================================================================================================
expect_body(ips_call('GET', ['do' => 'verifySettings', 'key' => $MK, 'url' => $SA, 'ourKey' => $SK['A']]), '{"status":"SUCCESS"}', 'verifySettings slave A');
expect_body(ips_call('GET', ['do' => 'verifySettings', 'key' => $MK, 'url' => $SB, 'ourKey' => $SK['B']]), '{"status":"SUCCESS"}', 'verifySettings slave B');
if (admin_available()) {
    admin('POST', '/admin/members/42/unlock');
}
expect_status(ips_call('GET', ['do' => 'changePassword', 'key' => key_for($MK, '42'), 'url' => $SA, 'pass_hash' => ALICE_HASH, 'pass_salt' => ALICE_SALT, 'id' => '42']), 'SUCCESS', 'Alice\'s §8 password (changePassword)');
expect_status(ips_call('GET', ['do' => 'changeEmail', 'key' => key_for($MK, '42'), 'url' => $SA, 'email' => 'alice@example.test', 'id' => '42']), 'SUCCESS', 'Alice\'s §8 e-mail (changeEmail, D10 if unchanged)');
$aliceId = slave_login('alice@example.test', 'correct horse');
is($aliceId, 42, 'Alice is #42');

$RT = $originA . '/?loginProcess=ipsconnect&ipsconnectKey=' . key_for($MK, '42') . '&ipsconnectId=42';

// ================================================================================================
Tap::section('§8.11 crossLogin chain from slave A (slaves A and B enabled)');
// ================================================================================================
$browser = new Browser();
$start = browser_start('crossLogin', '42', $RT, 'ef7d05c70b4fddc71bb6d4449bfdd60e', $SA);
is(
    $start,
    Conf::$mu . (str_contains(Conf::$mu, '?') ? '&' : '?') . 'do=crossLogin&key=ef7d05c70b4fddc71bb6d4449bfdd60e&url=' . $SA . '&id=42&returnTo=' . $originA . '/?loginProcess=ipsconnect%26ipsconnectKey=ef7d05c70b4fddc71bb6d4449bfdd60e%26ipsconnectId=42',
    'harness: step-1 URL is IPS-encoded as in §8.11 (literal :/?= , & as %26)',
);
$w = walk($browser, 'crossLogin', '42', $start, $RT, $SA, ['B'], '§8.11 crossLogin');
$set = cookies_set($w['first']);
ok(count($set) > 0, '§8.11 the first master response sets the master session cookie', show($w['first']->headersNamed('set-cookie')));
$sessionNames = array_map(fn ($c) => $c['name'], $set);
foreach ($set as $c) {
    ok(isset($c['attrs']['httponly']), "D14 master cookie {$c['name']} is HttpOnly", show($c));
    ok(strtolower((string) ($c['attrs']['samesite'] ?? '')) === 'lax', "D14 master cookie {$c['name']} is SameSite=Lax", show($c));
    if (str_starts_with(Conf::$mu, 'https:')) {
        ok(isset($c['attrs']['secure']), "D14 master cookie {$c['name']} is Secure (https)", show($c));
    }
    ok(!isset($c['attrs']['domain']), "master cookie {$c['name']} is host-only (no Domain attribute)", show($c));
}
$masterJar = $browser->jar(Conf::$mu);
ok(count($sessionNames) > 0 && count(array_intersect($sessionNames, array_keys($masterJar))) > 0, '§8.11 after the chain the browser still holds the master session cookie', show($masterJar));
if (($w['continue'][0] ?? '') !== '') {
    $c = $w['continue'][0];
    $last = substr($c, -1);
    $forged = substr($c, 0, -1) . ($last === 'A' ? 'B' : 'A');
    $r = (new Browser())->get(to_gateway($forged));
    ok($r->status >= 400 && $r->status < 500 && count(cookies_set($r)) === 0 && $r->header('location') === null, 'D14 a forged continue URL (state token changed) is refused: 4xx, no cookie, no redirect', $r->describe());
    $r = (new Browser())->get(to_gateway($c));
    ok($r->status < 500 && count(cookies_set($r)) === 0, 'D14 replaying a continue URL in another browser sets no cookie and is no 5xx', [$r->describe(), 'location: ' . ($r->header('location') ?? '-')]);
}
$aLog = array_filter($LOGS['A']->entries(), fn ($e) => (entry_params($e)['do'] ?? null) === 'crossLogin');
ok(count($aLog) === 0, '§4.2 the originating slave A is never visited', show(array_values($aLog)));

// ================================================================================================
Tap::section('§4.3 logout chain (same browser)');
// ================================================================================================
$RT2 = $originA . '/index.php?app=core&module=system&controller=login&do=logout&done=' . $RUN;
$wl = walk($browser, 'logout', '42', browser_start('logout', '42', $RT2, null, $SA), $RT2, $SA, ['B'], '§4.3 logout');
$firstCleared = array_map(fn ($c) => $c['name'], cookies_cleared($wl['first']));
ok(count(array_intersect($firstCleared, $sessionNames)) === 0 || count($wl['slaves']) === 0, 'D14/§4.2 the master session is not ended on the first logout response (only after the chain)', show($wl['first']->headersNamed('set-cookie')));
$lastCleared = array_map(fn ($c) => $c['name'], cookies_cleared($wl['last_master']));
ok(count($sessionNames) > 0 && count(array_diff($sessionNames, $lastCleared)) === 0, '§8.11 the master session cookie is cleared in the last master response', ['session cookies: ' . show($sessionNames), 'last response: ' . show($wl['last_master']->headersNamed('set-cookie'))]);
ok(count(array_intersect($sessionNames, array_keys($browser->jar(Conf::$mu)))) === 0, '§4.3 after logout the browser holds no master session cookie', show($browser->jar(Conf::$mu)));

// ================================================================================================
Tap::section('D4 crossLogin without url: no originator, every enabled slave is visited');
// ================================================================================================
slave_login('alice@example.test', 'correct horse');
$b2 = new Browser();
$RT3 = $originB . '/?landing=' . $RUN;
walk($b2, 'crossLogin', '42', browser_start('crossLogin', '42', $RT3), $RT3, null, ['A', 'B'], 'D4 crossLogin without url');
walk($b2, 'logout', '42', browser_start('logout', '42', $RT3), $RT3, null, ['A', 'B'], 'D4 logout without url');

// ================================================================================================
Tap::section('D14 recent authentication: register counts, nothing else does');
// ================================================================================================
$salt = gen_salt();
$N = ['name' => "walker-$RUN", 'email' => "walker.$RUN@example.test", 'hash' => ips_bcrypt('walker pass', $salt), 'salt' => $salt];
$r = ips_call('GET', ['do' => 'register', 'key' => $MK, 'name' => $N['name'], 'email' => $N['email'], 'pass_hash' => $N['hash'], 'pass_salt' => $N['salt'], 'revalidateUrl' => '', 'url' => $SA]);
$nid = is_array($r->json()) ? ($r->json()['connect_id'] ?? null) : null;
if (ok(is_int($nid), 'slave A registers a new account', $r->describe())) {
    $nid = (string) $nid;
    $RTn = $originA . '/?loginProcess=ipsconnect&ipsconnectKey=' . key_for($MK, $nid) . '&ipsconnectId=' . $nid;
    $bn = new Browser();
    $wn = walk($bn, 'crossLogin', $nid, browser_start('crossLogin', $nid, $RTn, null, $SA), $RTn, $SA, ['B'], 'D14 crossLogin right after register');
    ok(count(cookies_set($wn['first'])) > 0, 'D14 a register within 5 minutes counts as recent authentication (master cookie set)', show($wn['first']->headersNamed('set-cookie')));
}
if (admin_available()) {
    $r = admin('POST', '/admin/members', ['name' => "never-logged-in-$RUN", 'email' => "never.$RUN@example.test", 'password' => 'x y z']);
    $qid = is_array($r->json()) ? ($r->json()['id'] ?? null) : null;
    if (ok($r->status === 201 && is_int($qid), 'admin API creates a member that never logged in', $r->describe())) {
        $qid = (string) $qid;
        $RTq = $originA . '/?loginProcess=ipsconnect&ipsconnectKey=' . key_for($MK, $qid) . '&ipsconnectId=' . $qid;
        $fromB = $LOGS['B']->count();
        $bq = new Browser();
        expect_straight($bq->get(browser_start('crossLogin', $qid, $RTq, null, $SA)), $RTq, 'D14 crossLogin without a recent login');
        ok(count(array_filter($LOGS['B']->since($fromB), fn ($e) => (entry_params($e)['do'] ?? null) === 'crossLogin')) === 0, 'D14 … and no slave is visited', '');
    }
} else {
    Tap::skip('D14 crossLogin without a recent login', 'IPS_ADMIN_URL not set');
}
$RTu = $originA . '/?unknown=1';
$bu = new Browser();
expect_straight($bu->get(browser_start('crossLogin', '999999', $RTu, null, $SA)), $RTu, '§4.4/D14 crossLogin for an unknown id');

// ================================================================================================
Tap::section('§8.11 negative / D14: 403 pages');
// ================================================================================================
$bx = new Browser();
expect_403($bx->get(browser_start('crossLogin', '42', $RT, 'c681b6feb4eccb0dbebb9fd0fd2c5763', $SA)), '§8.11 crossLogin with slave A\'s key md5(SKA.42) instead of md5(MK.42)');
expect_403($bx->get(browser_start('crossLogin', '42', $RT, '804ea0715078b461eaf64b3400273a83', $SA)), '§8.11 crossLogin with slave B\'s key');
expect_403($bx->get(browser_start('crossLogin', '42', $RT, 'wrong', $SA)), '§2.6 crossLogin with a wrong key');
expect_403($bx->get(browser_start('crossLogin', '42', $RT, $MK, $SA)), 'D6 crossLogin with the raw MK');
expect_403($bx->get(url_with(Conf::$mu, ips_query(['do' => 'crossLogin', 'key' => $MK, 'url' => $SA, 'returnTo' => $RT]))), '§2.6/D14 crossLogin without id (raw MK)');
expect_403($bx->get(browser_start('crossLogin', '', $RT, key_for($MK, ''), $SA)), '§2.6/D14 crossLogin with an empty id');
foreach (['042', '-1', '42.0', 'abc', '2147483648'] as $bad) {
    expect_403($bx->get(browser_start('crossLogin', $bad, $RT, null, $SA)), "D6/D14 crossLogin with malformed id '$bad' (key md5(MK.id))");
}
expect_403($bx->get(browser_start('crossLogin', '42', $RT, null, $SA, ['slaveCall' => '1'])), '§1.7 crossLogin with slaveCall=1 at the master');
expect_403($bx->get(browser_start('logout', '42', $RT, null, $SA, ['slaveCall' => '1'])), '§1.7 logout with slaveCall=1 at the master');
foreach ([
    'a foreign origin' => 'http://evil.example.test/?loginProcess=ipsconnect',
    'a scheme-relative foreign URL' => '//evil.example.test/',
    'javascript:' => 'javascript:alert(1)',
    'a relative path' => '/index.php',
    'the same host on another port' => 'http://127.0.0.1:1/',
    'https on slave A\'s host:port' => 'https://' . substr($originA, 7) . '/',
    'userinfo trick' => $originA . '@evil.example.test/',
    'a data: URL' => 'data:text/html,<script>alert(1)</script>',
    'an empty returnTo' => '',
    'backslash trick' => 'http://evil.example.test\\@' . substr($originA, 7) . '/',
] as $what => $bad) {
    expect_403($bx->get(browser_start('crossLogin', '42', $bad, null, $SA)), "D14 crossLogin with returnTo on $what");
}
expect_403($bx->get(url_with(Conf::$mu, ips_query(['do' => 'crossLogin', 'key' => key_for($MK, '42'), 'url' => $SA, 'id' => '42']))), 'D14 crossLogin without returnTo');
expect_403($bx->get(browser_start('logout', '42', $RT, 'c681b6feb4eccb0dbebb9fd0fd2c5763', $SA)), '§8.11 logout with a slave key');
expect_403($bx->get(browser_start('logout', '42', 'http://evil.example.test/', null, $SA)), 'D14 logout with a foreign returnTo');
expect_403($bx->get(browser_start('logout', '042', $RT, null, $SA)), 'D6 logout with a malformed id');
ok(count($bx->jar(Conf::$mu)) === 0, 'none of the refused requests left a cookie in the browser', show($bx->jars));

// allowed returnTo origins; this crossLogin relies on the login made before the D4 walk (D14 is a
// 5-minute window, not a one-shot ticket)
$bok = new Browser();
$RTb = $originB . '/some/page?x=1&y=%C3%BC';
$wb = walk($bok, 'crossLogin', '42', browser_start('crossLogin', '42', $RTb, null, $SA), $RTb, $SA, ['B'], 'D14 returnTo on another enabled slave\'s origin (B) is allowed; query kept byte for byte');
if ($publicUrl !== '') {
    $RTp = $publicUrl . '/welcome?from=' . $RUN;
    $bp = new Browser();
    $r = $bp->get(browser_start('crossLogin', '42', $RTp, null, $SA));
    if (!ok($r->status === 303, "D14 returnTo on the master's public URL ($publicUrl) is allowed (303)", $r->describe())) {
        $probe = (new Browser())->get(browser_start('crossLogin', '42', $gatewayOrigin . '/welcome', null, $SA));
        Tap::diag("(probe, not a check: returnTo on the gateway's own origin $gatewayOrigin answers HTTP {$probe->status})");
    }
    // finish that chain so that nothing is left half-way
    $steps = 0;
    while ($r->status === 303 && $steps++ < 10 && ($loc = $r->header('location')) !== null && resolve_url($r->url, $loc) !== $RTp) {
        $r = $bp->get(to_gateway(resolve_url($r->url, $loc)));
    }
    ok($r->status === 303 && resolve_url($r->url, (string) $r->header('location')) === $RTp, 'D14 … and the chain ends at that returnTo', $r->describe());
}

// ================================================================================================
Tap::section('D14 no other enabled slave: log in and 303 straight to returnTo');
// ================================================================================================
expect_body(ips_call('GET', ['do' => 'disableSlave', 'key' => $MK, 'url' => $SB]), '{"status":"SUCCESS"}', 'slave B disables itself');
slave_login('alice@example.test', 'correct horse');
$bs = new Browser();
$fromB = $LOGS['B']->count();
$r = $bs->get(browser_start('crossLogin', '42', $RT, null, $SA));
expect_straight($r, $RT, 'D14 crossLogin from A with B disabled', true);
$r = $bs->get(browser_start('logout', '42', $RT2, null, $SA));
$loc = $r->header('location');
ok($r->status === 303 && $loc !== null && resolve_url($r->url, $loc) === $RT2, 'D14 logout from A with B disabled → 303 straight to returnTo', $r->describe());
ok(count(cookies_cleared($r)) > 0 && count(array_intersect(array_keys($bs->jar(Conf::$mu)), $sessionNames)) === 0, 'D14 … and the master session cookie is cleared in that response', show($r->headersNamed('set-cookie')));
ok(count(array_filter($LOGS['B']->since($fromB), fn ($e) => in_array(entry_params($e)['do'] ?? null, ['crossLogin', 'logout'], true))) === 0, 'the disabled slave B is not visited', '');
expect_body(ips_call('GET', ['do' => 'verifySettings', 'key' => $MK, 'url' => $SB, 'ourKey' => $SK['B']]), '{"status":"SUCCESS"}', 'slave B re-enables itself');

// ================================================================================================
Tap::section('Every hop the fake slaves received carried the right key');
// ================================================================================================
foreach (['A', 'B'] as $s) {
    $hops = array_values(array_filter($LOGS[$s]->entries(), fn ($e) => in_array(entry_params($e)['do'] ?? null, ['crossLogin', 'logout'], true)));
    $bad = array_values(array_filter($hops, fn ($e) => ($e['key_ok'] ?? false) !== true));
    ok(count($bad) === 0, "slave $s: all " . count($hops) . ' hops carried md5(SK(' . $s . ') . id)', array_map(fn ($e) => show($e['query']), $bad));
}

Tap::finish();
