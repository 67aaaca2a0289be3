<?php
declare(strict_types=1);

/**
 * IPS Connect v2 conformance client: drives every do= action against a master the way IPS 4.1/4.2
 * slaves and plain-PHP clients do, and asserts spec §8.1–§8.10 (byte-exact bodies), GET and POST,
 * plus decisions D1–D15 with its own random accounts. Output: TAP. Exit 1 if anything failed.
 *
 * Needs a fresh master whose only member is Alice (#42, seeded through the admin API — the client
 * seeds her itself if IPS_ADMIN_URL is set and she is missing), and two fake slaves (fake-slave.php)
 * whose logs it reads. Bob must become #43 through the §8.6 register, so nothing else may create
 * members before that point.
 */

require __DIR__ . '/lib.php';
Conf::load();

$MK = Conf::$mk;
$SA = Conf::$sa;
$SB = Conf::$sb;
$SKA = Conf::$ska;
$SKB = Conf::$skb;
$LOGS = ['A' => new SlaveLog('A', Conf::$logA), 'B' => new SlaveLog('B', Conf::$logB)];
$SK = ['A' => $SKA, 'B' => $SKB];
$SURL = ['A' => $SA, 'B' => $SB];

// §8 constants
const ALICE_SALT = 'abcdefghijklmnopqrstuv';
const ALICE_HASH = '$2a$13$abcdefghijklmnopqrstuufJyGQz74MaXA58G4n4SAlu8WLjGODFe';
const WRONG_HASH = '$2a$13$abcdefghijklmnopqrstuughKQK2f/mJU.giKfFRQJ4/CTErrHLRq';
const BOB_SALT = '0123456789abcdefghijkl';
const BOB_HASH = '$2a$13$0123456789abcdefghijke83qjoCb8ggnz2a4OYR7vO8WGClpIei.';
const NEW_SALT = 'ABCDEFGHIJKLMNOPQRSTUV';
const NEW_HASH = '$2a$13$ABCDEFGHIJKLMNOPQRSTUOPP139/pBRb4Bb7sZUqu.9S/aS1.lzN6';
const UTF8_HASH = '$2a$13$abcdefghijklmnopqrstuu7P1CmFKpuTeNHBraH.7yyzltpvhvO52';
const LEGACY_SALT = 'a1B2c';
const LEGACY_PLAIN = 'p@ss<word>&"!';
const LEGACY_HASH = 'bcd5fd83456b79c21b4a608c6f7dc439';
const LEGACY_SECRET_HASH = 'ac0deea758b3bd9b97e2dcc14e4cc534';

$RUN = rnd(6); // makes this run's own accounts unique

// ================================================================================================
// Deferred propagation expectations (D15: delivery is asynchronous, so they are checked together)
// ================================================================================================

/** @var list<array{slave:string,params:array,desc:string,count:int}> */
$EXPECT = [];
/** @var list<array{slave:string,subset:array,desc:string}> */
$ABSENT = [];

function expect_delivery(string $slave, array $params, string $desc, int $count = 1): void
{
    global $EXPECT;
    $EXPECT[] = ['slave' => $slave, 'params' => array_map('strval', $params), 'desc' => $desc, 'count' => $count];
}

function expect_no_delivery(string $slave, array $subset, string $desc): void
{
    global $ABSENT;
    $ABSENT[] = ['slave' => $slave, 'subset' => array_map('strval', $subset), 'desc' => $desc];
}

/**
 * What the master must send to every enabled slave except the originator (§2, D15).
 * $params: the action's parameters without do/key/slaveCall. $serverKey: raw SK (register) instead
 * of md5(SK . id).
 */
function expect_propagation(string $do, array $params, ?string $origin, string $desc, bool $serverKey = false, int $count = 1): void
{
    global $SK;
    $id = (string) ($params['id'] ?? '');
    foreach (['A', 'B'] as $s) {
        if ($s === $origin) {
            expect_no_delivery($s, ['do' => $do] + $params, "$desc: originator $s gets nothing");
            continue;
        }
        $key = $serverKey ? $SK[$s] : key_for($SK[$s], $id);
        expect_delivery($s, ['do' => $do, 'key' => $key] + $params + ['slaveCall' => '1'], "$desc: → slave $s", $count);
    }
}

function expect_nothing_propagated(string $do, array $subset, string $desc): void
{
    foreach (['A', 'B'] as $s) {
        expect_no_delivery($s, ['do' => $do] + $subset, "$desc: nothing sent to $s");
    }
}

function subset_match(array $params, array $subset): bool
{
    foreach ($subset as $k => $v) {
        if (!array_key_exists($k, $params) || !is_string($params[$k]) || $params[$k] !== $v) {
            return false;
        }
    }
    return true;
}

function prop_ok(bool $cond, string $desc, array|string $diag = []): bool
{
    if (Conf::$propagation === 'skip') {
        Tap::skip($desc, 'IPS_PROPAGATION=skip');
        return true;
    }
    return Tap::ok($cond, $desc, $diag, Conf::$propagation === 'todo' ? 'propagation (D15) not required (IPS_PROPAGATION=todo)' : null);
}

/** Wait until every expected delivery arrived (or the timeout), then judge all of them. */
function check_deliveries(): bool
{
    global $EXPECT, $ABSENT, $LOGS;
    Tap::section('Propagation (§2, §5.2, D15): deliveries received by the fake slaves');
    if (Conf::$propagation === 'skip') {
        Tap::skip(count($EXPECT) . ' expected deliveries, ' . count($ABSENT) . ' forbidden ones', 'IPS_PROPAGATION=skip');
        $EXPECT = $ABSENT = [];
        return false;
    }
    if (getenv('IPS_EXPECT_DUMP')) {
        // debugging aid: what this run expects the slaves to receive (and not to receive)
        file_put_contents((string) getenv('IPS_EXPECT_DUMP'), json_encode(['expect' => $EXPECT, 'absent' => $ABSENT], JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE));
    }
    $deadline = microtime(true) + Conf::$deliveryTimeout;
    do {
        $entries = ['A' => $LOGS['A']->entries(), 'B' => $LOGS['B']->entries()];
        $missing = 0;
        foreach ($EXPECT as $e) {
            $n = 0;
            foreach ($entries[$e['slave']] as $x) {
                if (params_equal(entry_params($x), $e['params'])) {
                    $n++;
                }
            }
            if ($n < $e['count']) {
                $missing++;
            }
        }
        if ($missing === 0) {
            break;
        }
        usleep(250_000);
    } while (microtime(true) < $deadline);
    usleep(1_500_000); // grace: anything that should NOT arrive has had time to do so
    $entries = ['A' => $LOGS['A']->entries(), 'B' => $LOGS['B']->entries()];
    $isCall = fn ($x) => isset(entry_params($x)['slaveCall']);
    $any = count(array_filter($entries['A'], $isCall)) + count(array_filter($entries['B'], $isCall)) > 0;
    foreach ($EXPECT as $e) {
        $hits = array_values(array_filter($entries[$e['slave']], fn ($x) => params_equal(entry_params($x), $e['params'])));
        $diag = ['expected ' . $e['count'] . '× on slave ' . $e['slave'] . ': ' . show($e['params']), 'received ' . count($hits) . '×'];
        if (count($hits) === 0) {
            $near = array_filter($entries[$e['slave']], fn ($x) => (entry_params($x)['do'] ?? null) === $e['params']['do']
                && (entry_params($x)['id'] ?? null) === ($e['params']['id'] ?? null));
            foreach (array_slice(array_values($near), 0, 3) as $x) {
                $diag[] = 'similar: ' . show(entry_params($x));
            }
        }
        $keysOk = array_reduce($hits, fn ($c, $x) => $c && ($x['key_ok'] ?? false) === true, true);
        prop_ok(count($hits) === $e['count'] && $keysOk, $e['desc'], $diag);
    }
    foreach ($ABSENT as $a) {
        $hits = array_values(array_filter($entries[$a['slave']], fn ($x) => subset_match(entry_params($x), $a['subset'])));
        prop_ok(count($hits) === 0, $a['desc'], ['must not receive anything matching ' . show($a['subset']), 'received: ' . show(array_map('entry_params', $hits))]);
    }
    foreach (['A', 'B'] as $s) {
        $bad = array_values(array_filter($entries[$s], fn ($x) => ($x['key_ok'] ?? false) !== true && isset(entry_params($x)['do'])));
        prop_ok(count($bad) === 0, "every master→slave request received by slave $s carries the right key (§1.8)", array_map(fn ($x) => 'bad key: ' . show(entry_params($x)), array_slice($bad, 0, 5)));
        $withUrl = array_values(array_filter($entries[$s], fn ($x) => isset(entry_params($x)['slaveCall']) && !in_array(entry_params($x)['do'] ?? '', ['crossLogin', 'logout'], true) && array_key_exists('url', entry_params($x))));
        prop_ok(count($withUrl) === 0, "propagated calls to slave $s omit `url` (§1.4: the master omits it)", array_map(fn ($x) => show(entry_params($x)), array_slice($withUrl, 0, 3)));
    }
    $EXPECT = $ABSENT = [];
    return $any;
}

// ================================================================================================
// Small helpers
// ================================================================================================

/** The same call as GET (query) and as POST (form body, no query string), same expected body. */
function both(array $params, string $expected, string $desc): void
{
    foreach (['GET', 'POST'] as $m) {
        expect_body(ips_call($m, $params), $expected, "$desc [$m]");
    }
}

/** @return array{name:string,email:string,salt:string,plain:string,hash:string,id:?int} */
function account(string $name, string $email, string $plain, ?string $salt = null): array
{
    $salt ??= gen_salt();
    return ['name' => $name, 'email' => $email, 'salt' => $salt, 'plain' => $plain, 'hash' => slave_hash($plain, $salt), 'id' => null];
}

/** A fresh account with ASCII name/e-mail (for the checks where UTF-8 is not the point). */
function plain_account(string $tag): array
{
    global $RUN;
    $r = rnd(4);
    return account("$tag-$RUN-$r", "$tag.$RUN.$r@example.test", "pw $tag $r");
}

/** register as an IPS slave does; stores connect_id into $a on SUCCESS. */
function register(array &$a, string $method = 'GET', ?string $originUrl = null, string $revalidate = ''): Resp
{
    global $MK;
    $r = ips_call($method, [
        'do' => 'register', 'key' => $MK, 'name' => $a['name'], 'email' => $a['email'],
        'pass_hash' => $a['hash'], 'pass_salt' => $a['salt'], 'revalidateUrl' => $revalidate, 'url' => $originUrl,
    ]);
    $j = $r->json();
    if (is_array($j) && ($j['status'] ?? null) === 'SUCCESS' && is_int($j['connect_id'] ?? null)) {
        $a['id'] = $j['connect_id'];
    }
    return $r;
}

/** Register and assert SUCCESS + a fresh positive int32 id, byte-exact. */
function must_register(array &$a, string $desc, string $method = 'GET', ?string $origin = null, string $revalidate = ''): bool
{
    global $SURL;
    $r = register($a, $method, $origin === null ? null : $SURL[$origin], $revalidate);
    $good = $a['id'] !== null && $a['id'] > 43 && $a['id'] <= 2147483647;
    $ok = expect_body($r, $good ? php_json(['status' => 'SUCCESS', 'connect_id' => $a['id']]) : '{"status":"SUCCESS","connect_id":<a new id above 43>}', $desc);
    if ($ok) {
        expect_propagation('register', [
            'name' => $a['name'], 'email' => $a['email'], 'pass_hash' => $a['hash'], 'pass_salt' => $a['salt'],
            'id' => (string) $a['id'], 'revalidateUrl' => $revalidate,
        ], $origin, "$desc: propagated register (key SK)", true);
    }
    return $ok;
}

function login_params(string $idType, string $id, string $password, ?string $originUrl = null): array
{
    global $MK;
    return ['do' => 'login', 'key' => key_for($MK, $id), 'idType' => $idType, 'id' => $id, 'password' => $password, 'url' => $originUrl];
}

function login_body(array $a, string $connectStatus = 'SUCCESS', ?string $revalidate = null): string
{
    return php_json(['status' => 'SUCCESS', 'connect_status' => $connectStatus, 'email' => $a['email'], 'name' => $a['name'],
        'connect_id' => $a['id'], 'connect_revalidate_url' => $revalidate]);
}

function login(array $a, string $method = 'GET', ?string $password = null, string $idType = '2', ?string $id = null): Resp
{
    $id ??= $idType === '1' || $idType === 'name' || $idType === 'username' ? $a['name'] : $a['email'];
    return ips_call($method, login_params($idType, $id, $password ?? $a['hash']));
}

function fetch_salt(string $idType, string $id, string $method = 'GET'): Resp
{
    global $MK;
    return ips_call($method, ['do' => 'fetchSalt', 'key' => key_for($MK, $id), 'idType' => $idType, 'id' => $id]);
}

function fetch_id(string $idType, string $id, string $method = 'GET'): Resp
{
    global $MK;
    return ips_call($method, ['do' => 'fetchId', 'key' => key_for($MK, $id), 'id' => $id, 'idType' => $idType]);
}

/** id-action request in the order IPS slaves build it: do, key, url, <params>, id. */
function id_action(string $do, string $id, array $params = [], ?string $originUrl = null, string $method = 'GET', ?string $key = null): Resp
{
    global $MK;
    return ips_call($method, ['do' => $do, 'key' => $key ?? key_for($MK, $id), 'url' => $originUrl] + $params + ['id' => $id]);
}

function json_status(Resp $r): ?string
{
    $j = $r->json();
    return is_array($j) && is_string($j['status'] ?? null) ? $j['status'] : null;
}

/** Find a member id anywhere in an admin API JSON answer. */
function json_has_id(mixed $j, int $id): bool
{
    if (is_int($j)) {
        return $j === $id;
    }
    if (!is_array($j)) {
        return false;
    }
    foreach ($j as $k => $v) {
        if (in_array($k, ['id', 'member_id', 'connect_id'], true) && ($v === $id || $v === (string) $id)) {
            return true;
        }
        if (is_array($v) && json_has_id($v, $id)) {
            return true;
        }
        if (is_int($k) && $v === $id) {
            return true;
        }
    }
    return false;
}

function admin_slave(string $url): ?array
{
    $r = admin('GET', '/admin/slaves');
    $j = $r->json();
    $list = is_array($j) && array_is_list($j) ? $j : (is_array($j['items'] ?? null) ? $j['items'] : []);
    foreach ($list as $s) {
        if (is_array($s) && ($s['url'] ?? null) === $url) {
            return $s;
        }
    }
    return null;
}

// ================================================================================================
Tap::section('Harness self-test: §8 keys, hashes and encodings computed with this PHP');
// ================================================================================================
$keyVectors = [
    [$MK, '42', 'ef7d05c70b4fddc71bb6d4449bfdd60e'], [$MK, '43', 'cb5da35a2b8d4580af776ebbfe222281'],
    [$MK, 'alice@example.test', 'a6f74b02ac80d8417e3775c38f44a322'], [$MK, 'Alice', '789e7936f4496b53cc29ee33a5aad4a7'],
    [$MK, 'bob@example.test', '42731179720cb163b494d1f3b29969c4'], [$MK, '', '8516ac99dc60603295de7bdb6a153530'],
    [$SKA, '42', 'c681b6feb4eccb0dbebb9fd0fd2c5763'], [$SKB, '42', '804ea0715078b461eaf64b3400273a83'],
    [$SKA, '43', '951da2636d491d38017de2b3ac3771e7'], [$SKB, '43', 'c54c08bb096dafe8314ca5d70c9bafbc'],
    [$MK, 'jürgen@example.test', 'f615eca5bcb79908f1df482e37e7f6f3'],
];
$allKeys = true;
foreach ($keyVectors as [$k, $id, $want]) {
    $allKeys = is(key_for($k, $id), $want, "harness: md5(K . \"$id\") = $want") && $allKeys;
}
if (!$allKeys) {
    Tap::diag('The §8 keys assume MK/SKA/SKB of §8; set IPS_MASTER_KEY / IPS_SLAVE_*_KEY to those values.');
}
foreach ([
    ['correct horse', ALICE_SALT, ALICE_HASH],
    ['correct horse', NEW_SALT, '$2a$13$ABCDEFGHIJKLMNOPQRSTUObre59UVY2AkFiJVk61/n9S.w0j6doO.'],
    ['correct horse', BOB_SALT, '$2a$13$0123456789abcdefghijke3CERZTa5/TP3eDpxrqRcvMG8MVOmP4O'],
    ['correct horse', 'zzzzzzzzzzzzzzzzzzzzzz', '$2a$13$zzzzzzzzzzzzzzzzzzzzzuf76qW3IcY/Ygb9kRINnqbl5GcxooI3S'],
    ['hunter2', BOB_SALT, BOB_HASH],
    ['new pass 2', NEW_SALT, NEW_HASH],
    ['wrong', ALICE_SALT, WRONG_HASH],
    ['pässwörd✓', ALICE_SALT, UTF8_HASH],
] as [$plain, $salt, $want]) {
    is(ips_bcrypt($plain, $salt), $want, "harness: crypt(\"$plain\", '\$2a\$13\$$salt')");
}
is(legacy_escape(LEGACY_PLAIN), 'p@ss&lt;word&gt;&amp;&quot;&#33;', 'harness: legacyEscape(p@ss<word>&"!)');
is(legacy_hash(LEGACY_PLAIN, LEGACY_SALT), LEGACY_HASH, 'harness: legacy md5 hash of p@ss<word>&"! with salt a1B2c');
is(legacy_hash('secret', LEGACY_SALT), LEGACY_SECRET_HASH, 'harness: legacy md5 hash of "secret" with salt a1B2c');
is(legacy_escape("<!--x--><SCRIPT>\$'\\\n"), '&#60;&#33;--x--&#62;&#60;script&gt;&#036;&#39;&#092;<br />', 'harness: legacyEscape order (comments, script, $, quote, backslash, newline)');
is(ips_encode('$2a$13$x/y.z'), '$2a$13$x/y.z', 'harness: IPS encoding keeps $ and / literal');
is(ips_encode('a+b c@d:e?f=g&h#i'), 'a%2Bb%20c@d:e?f=g%26h%23i', 'harness: IPS encoding sends + as %2B, & as %26');
is(
    http_build_query(['do' => 'register', 'key' => $SKB, 'name' => 'Bob', 'email' => 'bob@example.test', 'pass_hash' => BOB_HASH, 'pass_salt' => BOB_SALT, 'id' => 43, 'revalidateUrl' => '', 'slaveCall' => 1]),
    'do=register&key=00112233445566778899aabbccddeeff&name=Bob&email=bob%40example.test&pass_hash=%242a%2413%240123456789abcdefghijke83qjoCb8ggnz2a4OYR7vO8WGClpIei.&pass_salt=0123456789abcdefghijkl&id=43&revalidateUrl=&slaveCall=1',
    'harness: §8.6 queued request_url reproduced with http_build_query',
);
is(
    php_json(['status' => 'SUCCESS', 'connect_status' => 'VALIDATING', 'email' => 'bob@example.test', 'name' => 'Bob', 'connect_id' => 43, 'connect_revalidate_url' => 'http://127.0.0.1:8081/']),
    '{"status":"SUCCESS","connect_status":"VALIDATING","email":"bob@example.test","name":"Bob","connect_id":43,"connect_revalidate_url":"http:\/\/127.0.0.1:8081\/"}',
    'harness: json_encode reproduces the §8.3 VALIDATING body byte for byte',
);

// ================================================================================================
Tap::section('Precondition: Alice (#42) exists on the master');
// ================================================================================================
$r = fetch_id('2', 'alice@example.test');
if (json_status($r) === 'ACCOUNT_NOT_FOUND' && admin_available()) {
    Tap::diag('Alice is missing: seeding her through the admin API');
    $s = admin('POST', '/admin/members', ['id' => 42, 'name' => 'Alice', 'email' => 'alice@example.test', 'password' => 'correct horse', 'pass_salt' => ALICE_SALT]);
    ok($s->status === 201, 'admin API seeds Alice as #42 (POST /admin/members → 201)', $s->describe());
    $r = fetch_id('2', 'alice@example.test');
}
if (!ok($r->body === '{"status":"SUCCESS","connect_id":42}', 'Alice is member #42 before the vectors run', $r->describe())) {
    Tap::diag('The master must be fresh, with Alice seeded (#42) and nobody else; see README.md.');
}

// ================================================================================================
Tap::section('§8.1 verifySettings');
// ================================================================================================
expect_body(ips_call('GET', ['do' => 'verifySettings', 'key' => $MK, 'url' => $SA, 'ourKey' => $SKA]), '{"status":"SUCCESS"}', '§8.1 verifySettings registers slave A (GET)');
expect_body(ips_call('POST', ['do' => 'verifySettings', 'key' => $MK, 'url' => $SB, 'ourKey' => $SKB]), '{"status":"SUCCESS"}', '§8.1 verifySettings registers slave B (POST form body)');
both(['do' => 'verifySettings', 'key' => 'wrong', 'url' => $SA, 'ourKey' => $SKA], '{"status":"BAD_KEY"}', '§8.1 verifySettings with key=wrong → BAD_KEY');
both(['do' => 'verifySettings', 'key' => $MK, 'url' => $SA], '{"status":"FAILURE"}', '§8.1 verifySettings without ourKey → FAILURE');
both(['do' => 'verifySettings', 'key' => $MK, 'ourKey' => $SKA], '{"status":"FAILURE"}', '§2.1 verifySettings without url → FAILURE');
both(['do' => 'verifySettings', 'key' => 'wrong', 'url' => $SA], '{"status":"BAD_KEY"}', '§1.7 key check before the FAILURE checks: wrong key and no ourKey → BAD_KEY');
expect_body(ips_call('GET', ['do' => 'verifySettings', 'key' => $MK, 'url' => $SA, 'ourKey' => $SKA]), '{"status":"SUCCESS"}', '§2.1 verifySettings again for A (upsert, same key) → SUCCESS');
if (admin_available()) {
    $a = admin_slave($SA);
    $b = admin_slave($SB);
    ok(($a['enabled'] ?? null) === true && ($b['enabled'] ?? null) === true, 'admin API lists slaves A and B as enabled', admin('GET', '/admin/slaves')->describe());
}

// ================================================================================================
Tap::section('D2 gateway paths');
// ================================================================================================
$origin = preg_replace('#^(https?://[^/]+).*$#', '$1', Conf::$mu);
foreach (['/ipsconnect', '/applications/core/interface/ipsconnect/ipsconnect.php', '/interface/ipsconnect/ipsconnect.php'] as $p) {
    foreach (['GET', 'POST'] as $m) {
        expect_body(ips_call($m, ['do' => 'checkEmail', 'key' => $MK, 'email' => 'alice@example.test'], $origin . $p), '{"status":"SUCCESS","used":1}', "D2 the protocol is served at $p [$m]");
    }
}

// ================================================================================================
Tap::section('§8.2 fetchSalt');
// ================================================================================================
$SALT_BODY = '{"status":"SUCCESS","pass_salt":"abcdefghijklmnopqrstuv"}';
both(['do' => 'fetchSalt', 'key' => 'a6f74b02ac80d8417e3775c38f44a322', 'idType' => '2', 'id' => 'alice@example.test'], $SALT_BODY, '§8.2 fetchSalt idType=2 alice@example.test');
both(['do' => 'fetchSalt', 'key' => '789e7936f4496b53cc29ee33a5aad4a7', 'idType' => '1', 'id' => 'Alice'], $SALT_BODY, '§8.2 fetchSalt idType=1 Alice');
both(['do' => 'fetchSalt', 'key' => '789e7936f4496b53cc29ee33a5aad4a7', 'idType' => '3', 'id' => 'Alice'], $SALT_BODY, '§8.2 fetchSalt idType=3 Alice (e-mail misses, name hits)');
both(['do' => 'fetchSalt', 'key' => key_for($MK, 'alice@example.test'), 'idType' => '3', 'id' => 'alice@example.test'], $SALT_BODY, '§2.3 fetchSalt idType=3 alice@example.test (e-mail hits)');
both(['do' => 'fetchSalt', 'key' => key_for($MK, 'nobody@example.test'), 'idType' => '2', 'id' => 'nobody@example.test'], '{"status":"ACCOUNT_NOT_FOUND"}', '§8.2 fetchSalt unknown e-mail → ACCOUNT_NOT_FOUND');
both(['do' => 'fetchSalt', 'key' => 'ef7d05c70b4fddc71bb6d4449bfdd60e', 'idType' => '2', 'id' => 'alice@example.test'], '{"status":"BAD_KEY"}', '§8.2 fetchSalt with the key of another id → BAD_KEY');
both(['do' => 'fetchSalt', 'key' => 'a6f74b02ac80d8417e3775c38f44a322', 'id' => 'alice@example.test'], '{"status":"REQUEST_MISSING_DATA"}', '§8.2 fetchSalt without idType → REQUEST_MISSING_DATA');
both(['do' => 'fetchSalt', 'key' => 'a6f74b02ac80d8417e3775c38f44a322', 'idType' => '', 'id' => 'alice@example.test'], '{"status":"REQUEST_MISSING_DATA"}', '§2.3 fetchSalt with empty idType → REQUEST_MISSING_DATA');
both(['do' => 'fetchSalt', 'key' => '8516ac99dc60603295de7bdb6a153530', 'idType' => '2', 'id' => ''], '{"status":"REQUEST_MISSING_DATA"}', '§2.3 fetchSalt with empty id (key md5(MK."")) → REQUEST_MISSING_DATA');
both(['do' => 'fetchSalt', 'key' => 'wrong', 'id' => 'alice@example.test'], '{"status":"BAD_KEY"}', '§1.7 fetchSalt with a wrong key and no idType → BAD_KEY (key before required parameters)');
both(['do' => 'fetchSalt', 'key' => 'wrong', 'idType' => '2'], '{"status":"REQUEST_MISSING_DATA"}', 'D6 fetchSalt without id → REQUEST_MISSING_DATA whatever the key (no raw-MK fallback)');
both(['do' => 'fetchSalt', 'key' => 'a6f74b02ac80d8417e3775c38f44a322', 'idType' => '1', 'id' => 'alice@example.test'], '{"status":"ACCOUNT_NOT_FOUND"}', '§2.3 fetchSalt idType=1 (name) with an e-mail → ACCOUNT_NOT_FOUND');
both(['do' => 'fetchSalt', 'key' => '789e7936f4496b53cc29ee33a5aad4a7', 'idType' => '2', 'id' => 'Alice'], '{"status":"ACCOUNT_NOT_FOUND"}', '§2.3 fetchSalt idType=2 (e-mail) with a name → ACCOUNT_NOT_FOUND');

// ================================================================================================
Tap::section('§8.3 login');
// ================================================================================================
$ALICE_OK = '{"status":"SUCCESS","connect_status":"SUCCESS","email":"alice@example.test","name":"Alice","connect_id":42,"connect_revalidate_url":null}';
foreach (['GET', 'POST'] as $m) {
    // success, two failures, success: never more than two failures in a row on a shared account (D12)
    expect_body(ips_call($m, ['do' => 'login', 'key' => 'a6f74b02ac80d8417e3775c38f44a322', 'idType' => '2', 'id' => 'alice@example.test', 'password' => ALICE_HASH]), $ALICE_OK, "§8.3 login Alice with her bcrypt hash [$m]");
    expect_body(ips_call($m, ['do' => 'login', 'key' => 'a6f74b02ac80d8417e3775c38f44a322', 'idType' => '2', 'id' => 'alice@example.test', 'password' => WRONG_HASH]), '{"status":"WRONG_AUTH"}', "§8.3 login with the hash of \"wrong\" → WRONG_AUTH [$m]");
    expect_body(ips_call($m, ['do' => 'login', 'key' => 'a6f74b02ac80d8417e3775c38f44a322', 'idType' => '2', 'id' => 'alice@example.test', 'password' => 'correct horse']), '{"status":"WRONG_AUTH"}', "§8.3/D13 login with the plaintext password → WRONG_AUTH [$m]");
    expect_body(ips_call($m, ['do' => 'login', 'key' => '789e7936f4496b53cc29ee33a5aad4a7', 'idType' => '1', 'id' => 'Alice', 'password' => ALICE_HASH]), $ALICE_OK, "§2.4 login Alice by name (idType=1) [$m]");
}
both(['do' => 'login', 'key' => '789e7936f4496b53cc29ee33a5aad4a7', 'idType' => '3', 'id' => 'Alice', 'password' => ALICE_HASH], $ALICE_OK, '§2.4 login idType=3 by name');
both(['do' => 'login', 'key' => 'ef7d05c70b4fddc71bb6d4449bfdd60e', 'idType' => '2', 'id' => 'alice@example.test', 'password' => ALICE_HASH], '{"status":"BAD_KEY"}', '§2.4 login with the key of another id → BAD_KEY');
both(['do' => 'login', 'key' => key_for($MK, 'nobody@example.test'), 'idType' => '2', 'id' => 'nobody@example.test', 'password' => ALICE_HASH], '{"status":"ACCOUNT_NOT_FOUND"}', '§2.4 login unknown e-mail → ACCOUNT_NOT_FOUND');
both(['do' => 'login', 'key' => 'a6f74b02ac80d8417e3775c38f44a322', 'id' => 'alice@example.test', 'password' => ALICE_HASH], '{"status":"REQUEST_MISSING_DATA"}', '§2.4 login without idType → REQUEST_MISSING_DATA');
both(['do' => 'login', 'key' => 'a6f74b02ac80d8417e3775c38f44a322', 'idType' => '2', 'id' => 'alice@example.test', 'password' => ALICE_HASH, 'fetchId' => '1'], $ALICE_OK, '§2.4 login with the optional fetchId parameter');

// ================================================================================================
Tap::section('§8.4 fetchId');
// ================================================================================================
both(['do' => 'fetchId', 'key' => 'a6f74b02ac80d8417e3775c38f44a322', 'id' => 'alice@example.test', 'idType' => 'email'], '{"status":"SUCCESS","connect_id":42}', '§8.4 fetchId idType=email');
both(['do' => 'fetchId', 'key' => 'a6f74b02ac80d8417e3775c38f44a322', 'id' => 'alice@example.test', 'idType' => '2'], '{"status":"SUCCESS","connect_id":42}', '§2.5 fetchId idType=2');
both(['do' => 'fetchId', 'key' => '789e7936f4496b53cc29ee33a5aad4a7', 'id' => 'Alice', 'idType' => 'name'], '{"status":"SUCCESS","connect_id":42}', '§2.5/D7 fetchId idType=name');
both(['do' => 'fetchId', 'key' => key_for($MK, 'nobody@example.test'), 'id' => 'nobody@example.test', 'idType' => 'email'], '{"status":"ACCOUNT_NOT_FOUND"}', '§2.5 fetchId unknown → ACCOUNT_NOT_FOUND');
both(['do' => 'fetchId', 'key' => 'wrong', 'id' => 'alice@example.test', 'idType' => 'email'], '{"status":"BAD_KEY"}', '§2.5 fetchId wrong key → BAD_KEY');
both(['do' => 'fetchId', 'key' => 'a6f74b02ac80d8417e3775c38f44a322', 'id' => 'alice@example.test'], '{"status":"REQUEST_MISSING_DATA"}', '§2.5 fetchId without idType → REQUEST_MISSING_DATA');

// ================================================================================================
Tap::section('§8.5 checkEmail / checkName');
// ================================================================================================
both(['do' => 'checkEmail', 'key' => $MK, 'email' => 'alice@example.test'], '{"status":"SUCCESS","used":1}', '§8.5 checkEmail alice@example.test → used 1');
both(['do' => 'checkEmail', 'key' => $MK, 'email' => 'bob@example.test'], '{"status":"SUCCESS","used":0}', '§8.5 checkEmail bob@example.test → used 0');
both(['do' => 'checkName', 'key' => $MK, 'name' => 'ALICE'], '{"status":"SUCCESS","used":1}', '§8.5 checkName ALICE → used 1 (case-insensitive)');
both(['do' => 'checkName', 'key' => $MK, 'name' => 'Bob'], '{"status":"SUCCESS","used":0}', '§2.13 checkName Bob → used 0');
both(['do' => 'checkEmail', 'key' => 'ef7d05c70b4fddc71bb6d4449bfdd60e', 'email' => 'alice@example.test'], '{"status":"BAD_KEY"}', '§2.13 checkEmail with md5(MK.id) instead of MK → BAD_KEY');
both(['do' => 'checkName', 'key' => 'wrong', 'name' => 'Alice'], '{"status":"BAD_KEY"}', '§2.13 checkName wrong key → BAD_KEY');

// ================================================================================================
Tap::section('§8.6 register (from slave A) and its propagation');
// ================================================================================================
$BOB = ['name' => 'Bob', 'email' => 'bob@example.test', 'salt' => BOB_SALT, 'plain' => 'hunter2', 'hash' => BOB_HASH, 'id' => 43];
// Exactly the printed request, IPS-encoded (literal $, @, :, /).
expect_body(
    ips_raw('GET', 'do=register&key=0123456789abcdef0123456789abcdef&name=Bob&email=bob@example.test&pass_hash=$2a$13$0123456789abcdefghijke83qjoCb8ggnz2a4OYR7vO8WGClpIei.&pass_salt=0123456789abcdefghijkl&revalidateUrl=&url=' . $SA),
    '{"status":"SUCCESS","connect_id":43}',
    '§8.6 register Bob from slave A → connect_id 43 (next id after the highest)',
);
expect_propagation('register', ['name' => 'Bob', 'email' => 'bob@example.test', 'pass_hash' => BOB_HASH, 'pass_salt' => BOB_SALT, 'id' => '43', 'revalidateUrl' => ''], 'A', '§8.6 register Bob propagated', true);
both(['do' => 'register', 'key' => $MK, 'name' => 'Carl', 'email' => 'carl@example.test', 'pass_hash' => BOB_HASH, 'revalidateUrl' => '', 'url' => $SA], '{"status":"REQUEST_MISSING_DATA"}', '§8.6 register without pass_salt → REQUEST_MISSING_DATA');
foreach (['name', 'email', 'pass_hash', 'pass_salt'] as $f) {
    $p = ['do' => 'register', 'key' => $MK, 'name' => 'Carl', 'email' => 'carl@example.test', 'pass_hash' => BOB_HASH, 'pass_salt' => BOB_SALT, 'revalidateUrl' => '', 'url' => $SA];
    $p[$f] = '';
    both($p, '{"status":"REQUEST_MISSING_DATA"}', "§2.8 register with empty $f → REQUEST_MISSING_DATA");
}
both(['do' => 'register', 'key' => 'wrong', 'name' => 'Carl', 'email' => 'carl@example.test'], '{"status":"BAD_KEY"}', '§1.7 register with wrong key and missing data → BAD_KEY');
both(['do' => 'checkEmail', 'key' => $MK, 'email' => 'carl@example.test'], '{"status":"SUCCESS","used":0}', '§2.8 refused registers created nothing');
both(['do' => 'register', 'key' => $MK, 'name' => 'Bob', 'email' => 'bob@example.test', 'pass_hash' => BOB_HASH, 'pass_salt' => BOB_SALT, 'revalidateUrl' => '', 'url' => $SA], '{"status":"SUCCESS","connect_id":43}', '§8.6/D9 repeating the same register → SUCCESS with the same connect_id 43');
both(['do' => 'register', 'key' => $MK, 'name' => 'Bob', 'email' => 'bob@example.test', 'pass_hash' => NEW_HASH, 'pass_salt' => NEW_SALT, 'revalidateUrl' => '', 'url' => $SA], '{"status":"EMAIL_IN_USE"}', '§8.6/D9 same e-mail and name but another pass_hash → EMAIL_IN_USE');
both(['do' => 'register', 'key' => $MK, 'name' => 'Robert', 'email' => 'bob@example.test', 'pass_hash' => BOB_HASH, 'pass_salt' => BOB_SALT, 'revalidateUrl' => '', 'url' => $SA], '{"status":"EMAIL_IN_USE"}', '§8.6/D9 same e-mail, another name → EMAIL_IN_USE');
both(['do' => 'register', 'key' => $MK, 'name' => 'bob', 'email' => "robert.$RUN@example.test", 'pass_hash' => BOB_HASH, 'pass_salt' => BOB_SALT, 'revalidateUrl' => '', 'url' => $SA], '{"status":"USERNAME_IN_USE"}', 'D9/D8 another e-mail, name "bob" (Bob in another case) → USERNAME_IN_USE');
both(['do' => 'register', 'key' => $MK, 'name' => 'Alice', 'email' => 'BOB@EXAMPLE.TEST', 'pass_hash' => BOB_HASH, 'pass_salt' => BOB_SALT, 'revalidateUrl' => '', 'url' => $SA], '{"status":"EMAIL_IN_USE"}', 'D9 e-mail (other case) and name both taken → EMAIL_IN_USE (e-mail checked first)');
both(['do' => 'checkEmail', 'key' => $MK, 'email' => "robert.$RUN@example.test"], '{"status":"SUCCESS","used":0}', 'D9 a refused register creates nothing');
expect_nothing_propagated('register', ['email' => "robert.$RUN@example.test"], 'D9 refused register');
expect_nothing_propagated('register', ['name' => 'Robert'], 'D9 refused register');
both(['do' => 'fetchSalt', 'key' => '42731179720cb163b494d1f3b29969c4', 'idType' => '2', 'id' => 'bob@example.test'], '{"status":"SUCCESS","pass_salt":"0123456789abcdefghijkl"}', '§8.6 Bob fetchSalt (key 4273…, idType 2) → his salt');
both(['do' => 'login', 'key' => '42731179720cb163b494d1f3b29969c4', 'idType' => '2', 'id' => 'bob@example.test', 'password' => BOB_HASH], '{"status":"SUCCESS","connect_status":"SUCCESS","email":"bob@example.test","name":"Bob","connect_id":43,"connect_revalidate_url":null}', '§8.6 Bob logs in with the hunter2 hash → connect_id 43');
both(['do' => 'checkEmail', 'key' => $MK, 'email' => 'bob@example.test'], '{"status":"SUCCESS","used":1}', '§2.13 checkEmail bob@example.test → used 1 after register');

// ================================================================================================
Tap::section('§1.2 / D2 transport: parameters, encoding, methods');
// ================================================================================================
$T = plain_account('transport');
$T['name'] = "Tëst $RUN";
must_register($T, 'transport account registered (name with a space and UTF-8)', 'POST', 'A');
$tk = key_for($MK, $T['email']);
$saltBody = php_json(['status' => 'SUCCESS', 'pass_salt' => $T['salt']]);
expect_body(ips_raw('GET', "do=fetchSalt&key=wrong&idType=1&id=nobody&key=$tk&idType=2&id=" . ips_encode($T['email'])), $saltBody, 'D2 duplicated names: the last occurrence wins (GET)');
expect_body(ips_raw('POST', "do=fetchSalt&key=wrong&idType=1&id=nobody&key=$tk&idType=2&id=" . ips_encode($T['email'])), $saltBody, 'D2 duplicated names: the last occurrence wins (POST)');
expect_body(ips_raw('GET', "do=nosuchthing&key=$tk&idType=2&id=" . ips_encode($T['email']) . '&do=fetchSalt'), $saltBody, 'D2 duplicated do: the last one wins');
expect_body(
    http_request('POST', url_with(Conf::$mu, 'do=fetchSalt&key=wrong&idType=1&id=nobody%40example.test'), "key=$tk&idType=2&id=" . rawurlencode($T['email']), ['Content-Type' => 'application/x-www-form-urlencoded']),
    $saltBody,
    '§1.2/D2 POST body overrides the same names in the query string',
);
expect_body(
    http_request('POST', url_with(Conf::$mu, 'do=checkName&key=' . $MK), 'name=' . rawurlencode($T['name']), ['Content-Type' => 'application/x-www-form-urlencoded']),
    '{"status":"SUCCESS","used":1}',
    '§1.2 GET and POST parameters are merged (do/key in the query, name in the body)',
);
expect_body(ips_raw('GET', "do=checkName&key=$MK&name=" . str_replace('%20', '+', rawurlencode($T['name']))), '{"status":"SUCCESS","used":1}', '§1.2 "+" decodes to a space');
expect_body(ips_raw('GET', "do=checkName&key=$MK&name=" . str_replace('%20', '%2B', rawurlencode($T['name']))), '{"status":"SUCCESS","used":0}', '§1.3 "%2B" is a literal plus, not a space');
expect_body(ips_raw('POST', "do=checkName&key=$MK&name=" . str_replace('%20', '+', rawurlencode($T['name']))), '{"status":"SUCCESS","used":1}', '§1.2 "+" decodes to a space in a POST body');
expect_body(ips_raw('GET', "do=checkEmail&key=$MK&email=" . rawurlencode($T['email'])), '{"status":"SUCCESS","used":1}', '§1.3 fully percent-encoded values (%40) decode like IPS-encoded ones');
expect_body(ips_raw('GET', "do=fetchSalt&key=$tk&idType=2&id=" . rawurlencode($T['email']) . '%00'), $saltBody, '§1.2/D2 NUL bytes are stripped before the key check and lookup');
$mid = intdiv(strlen($T['email']), 2);
expect_body(ips_raw('GET', "do=fetchSalt&key=$tk&idType=2&id=" . rawurlencode(substr($T['email'], 0, $mid)) . '%E2%80%AE' . rawurlencode(substr($T['email'], $mid))), $saltBody, '§1.2/D2 U+202E is stripped before the key check and lookup');
expect_body(ips_raw('GET', "do=changeEmail&key=" . key_for($MK, (string) $T['id']) . "&email[]=x%40example.test&id={$T['id']}"), '{"status":"REQUEST_MISSING_DATA"}', 'D2 an array parameter (email[]=) counts as missing (GET)');
expect_body(ips_raw('POST', "do=changeEmail&key=" . key_for($MK, (string) $T['id']) . "&email[]=x%40example.test&id={$T['id']}"), '{"status":"REQUEST_MISSING_DATA"}', 'D2 an array parameter (email[]=) counts as missing (POST)');
expect_body(ips_raw('GET', "do=fetchSalt&key=$tk&idType[]=2&id=" . rawurlencode($T['email'])), '{"status":"REQUEST_MISSING_DATA"}', 'D2 idType[]= counts as missing');
expect_body(ips_raw('GET', "do=register&key=$MK&name[]=x&email=arr.$RUN%40example.test&pass_hash=" . rawurlencode(BOB_HASH) . '&pass_salt=' . BOB_SALT), '{"status":"REQUEST_MISSING_DATA"}', 'D2 name[]= on register counts as missing');
expect_body(ips_raw('GET', "do=checkEmail&key[]=$MK&email=alice%40example.test"), '{"status":"BAD_KEY"}', 'D2 key[]= counts as missing → BAD_KEY');
expect_body(ips_raw('GET', "do[]=checkEmail&key=$MK&email=alice%40example.test"), '{"status":"INVALID_ACTION"}', 'D2 do[]= counts as missing → INVALID_ACTION');
expect_body(ips_raw('GET', "do=checkEmail&key=$MK&email=alice%40example.test&unknownParam=1&another=x"), '{"status":"SUCCESS","used":1}', 'D2 unknown parameters are ignored');
expect_body(ips_raw('GET', "do=checkEmail&key=$MK&email=alice%40example.test&url=" . rawurlencode($SA)), '{"status":"SUCCESS","used":1}', 'D4 url is accepted on any action');
$big = http_request('POST', Conf::$mu, "do=checkEmail&key=$MK&email=" . str_repeat('a', 70 * 1024), ['Content-Type' => 'application/x-www-form-urlencoded']);
ok($big->status === 413, 'D2 a form body over 64 KiB → 413', $big->describe());
foreach (['PUT', 'DELETE', 'PATCH'] as $m) {
    $r = http_request($m, url_with(Conf::$mu, "do=checkEmail&key=$MK&email=alice%40example.test"));
    ok($r->status > 0 && $r->status < 500, "D2/issue: method $m is answered without a 5xx", $r->describe());
}
$r = http_request('POST', Conf::$mu, '{"do":"checkEmail"}', ['Content-Type' => 'application/json']);
ok($r->status > 0 && $r->status < 500, 'issue: a JSON body is answered without a 5xx', $r->describe());
$r = http_request('POST', Conf::$mu, "do=checkEmail&key=$MK&email=alice%40example.test", ['Content-Type' => 'text/plain']);
ok($r->status > 0 && $r->status < 500, 'issue: a text/plain body is answered without a 5xx', $r->describe());
$known = ['SUCCESS', 'INVALID_ACTION', 'DISABLED', 'BAD_KEY', 'REQUEST_MISSING_DATA', 'ACCOUNT_NOT_FOUND', 'WRONG_AUTH', 'EMAIL_IN_USE', 'USERNAME_IN_USE', 'FAILURE', 'ACCOUNT_LOCKED'];
foreach ([
    'checkName with invalid UTF-8' => "do=checkName&key=$MK&name=%FF%FEab",
    'fetchSalt with invalid UTF-8 id' => 'do=fetchSalt&key=' . key_for($MK, "\xC3") . '&idType=2&id=%C3',
    'register with invalid UTF-8 name' => "do=register&key=$MK&name=%C3%28$RUN&email=utf.$RUN%40example.test&pass_hash=" . rawurlencode(BOB_HASH) . '&pass_salt=' . BOB_SALT,
    'changeName with invalid UTF-8' => 'do=changeName&key=' . key_for($MK, (string) $T['id']) . "&name=%E2%82&id={$T['id']}",
    'checkEmail with a 10 000-character e-mail' => "do=checkEmail&key=$MK&email=" . str_repeat('x', 10000) . '%40example.test',
    'fetchSalt with a 10 000-character idType' => "do=fetchSalt&key=$tk&idType=" . str_repeat('9', 10000) . '&id=' . rawurlencode($T['email']),
] as $what => $q) {
    $r = ips_raw('GET', $q);
    $st = json_status($r);
    ok($r->status === 200 && in_array($st, $known, true), "issue: $what → HTTP 200 with a catalogue status (got " . ($st ?? 'none') . ')', $r->describe());
}
expect_nothing_propagated('register', ['email' => "arr.$RUN@example.test"], 'D2 register with name[]');

// ================================================================================================
Tap::section('§1.7 dispatch order, D1 generation, §8.10 DISABLED / INVALID_ACTION');
// ================================================================================================
$ACTIONS = ['verifySettings', 'disableSlave', 'fetchSalt', 'login', 'fetchId', 'register', 'validate', 'delete', 'ban', 'merge', 'checkEmail', 'checkName', 'changeEmail', 'changePassword', 'changeName'];
foreach ($ACTIONS as $a) {
    $r = ips_call('GET', ['do' => $a, 'key' => $MK, 'slaveCall' => '1', 'id' => '42', 'url' => $SA, 'idType' => '2', 'email' => 'alice@example.test', 'name' => 'Alice']);
    expect_status($r, 'DISABLED', "§8.10 do=$a with slaveCall=1 → DISABLED (a master is not a slave)");
}
expect_body(ips_call('POST', login_params('2', 'alice@example.test', ALICE_HASH) + ['slaveCall' => '1']), '{"status":"DISABLED"}', '§8.10 do=login&slaveCall=1 with valid credentials → DISABLED [POST]');
both(['do' => 'nosuchthing', 'key' => $MK, 'slaveCall' => '1'], '{"status":"DISABLED"}', '§1.7 slaveCall=1 is checked before the action name');
both(['do' => 'nosuchthing', 'key' => $MK], '{"status":"INVALID_ACTION"}', '§8.10 unknown do → INVALID_ACTION');
foreach (['_dispatch', 'dispatch', 'checkReturnTo', '__construct', 'constructor', 'toString', 'hasOwnProperty', 'prototype', '__proto__', ''] as $a) {
    expect_status(ips_call('GET', ['do' => $a, 'key' => $MK]), 'INVALID_ACTION', "§1.7 do=\"$a\" is not an action → INVALID_ACTION");
}
expect_status(ips_raw('GET', ''), 'INVALID_ACTION', '§1.7 no parameters at all → INVALID_ACTION');
both(['act' => 'login', 'key' => $MK, 'idType' => 'email', 'id' => 'alice@example.test', 'password' => md5('correct horse')], '{"status":"INVALID_ACTION"}', 'D1 a v1 request (act=login, no do) → INVALID_ACTION');
both(['act' => 'check', 'key' => $MK, 'email' => 'alice@example.test'], '{"status":"INVALID_ACTION"}', 'D1 act=check → INVALID_ACTION');

// BAD_KEY for every action, and key before required-parameter checks
$badKeyCases = [
    'verifySettings' => ['url' => 'http://127.0.0.1:9/never', 'ourKey' => 'x'],
    'disableSlave' => ['url' => $SA],
    'register' => ['name' => "never$RUN", 'email' => "never.$RUN@example.test", 'pass_hash' => BOB_HASH, 'pass_salt' => BOB_SALT],
    'checkEmail' => ['email' => 'alice@example.test'],
    'checkName' => ['name' => 'Alice'],
    'fetchSalt' => ['idType' => '2', 'id' => 'alice@example.test'],
    'login' => ['idType' => '2', 'id' => 'alice@example.test', 'password' => ALICE_HASH],
    'fetchId' => ['idType' => 'email', 'id' => 'alice@example.test'],
    'validate' => ['id' => '43'],
    'delete' => ['id' => '43'],
    'ban' => ['status' => '1', 'id' => '43'],
    'merge' => ['remove' => '43', 'id' => '42'],
    'changeEmail' => ['email' => "never.$RUN@example.test", 'id' => '43'],
    'changePassword' => ['pass_hash' => NEW_HASH, 'pass_salt' => NEW_SALT, 'id' => '43'],
    'changeName' => ['name' => "never$RUN", 'id' => '43'],
];
foreach ($badKeyCases as $a => $p) {
    expect_status(ips_call('GET', ['do' => $a, 'key' => 'wrong'] + $p), 'BAD_KEY', "§1.8 do=$a with a wrong key → BAD_KEY");
    expect_status(ips_call('POST', ['do' => $a] + $p), 'BAD_KEY', "§1.8 do=$a without key → BAD_KEY [POST]");
}
foreach (['validate', 'delete', 'ban', 'changeEmail', 'changePassword', 'changeName'] as $a) {
    $p = $badKeyCases[$a];
    expect_status(ips_call('GET', ['do' => $a, 'key' => $MK] + $p), 'BAD_KEY', "D6 do=$a with the raw MK although id is present → BAD_KEY (no raw-MK fallback)");
    expect_status(ips_call('GET', ['do' => $a, 'key' => 'ef7d05c70b4fddc71bb6d4449bfdd60e'] + $p), 'BAD_KEY', "§1.8 do=$a id=43 with md5(MK.\"42\") → BAD_KEY");
    expect_status(ips_call('GET', ['do' => $a, 'key' => 'CB5DA35A2B8D4580AF776EBBFE222281'] + $p), 'BAD_KEY', "§1.8 do=$a with the right md5 in upper case → BAD_KEY (byte comparison)");
    expect_status(ips_call('GET', ['do' => $a, 'key' => 'c54c08bb096dafe8314ca5d70c9bafbc'] + $p), 'BAD_KEY', "§1.8 do=$a with slave B's key md5(SKB.id) → BAD_KEY");
}
foreach (['changeEmail' => ['email'], 'changeName' => ['name'], 'changePassword' => ['pass_hash', 'pass_salt']] as $a => $fields) {
    $p = $badKeyCases[$a];
    foreach ($fields as $f) {
        unset($p[$f]);
    }
    expect_status(ips_call('GET', ['do' => $a, 'key' => 'wrong'] + $p), 'BAD_KEY', "§1.7 do=$a with a wrong key and missing " . implode('+', $fields) . ' → BAD_KEY (key first)');
}
expect_nothing_propagated('register', ['name' => "never$RUN"], 'bad-key register');
expect_nothing_propagated('changeEmail', ['email' => "never.$RUN@example.test"], 'bad-key changeEmail');
expect_nothing_propagated('changeName', ['name' => "never$RUN"], 'bad-key changeName');

// ================================================================================================
Tap::section('D6 member ids');
// ================================================================================================
$idActions = [
    'validate' => [], 'delete' => [], 'ban' => ['status' => '1'], 'merge' => ['remove' => '43'],
    'changeEmail' => ['email' => "d6.$RUN@example.test"], 'changePassword' => ['pass_hash' => NEW_HASH, 'pass_salt' => NEW_SALT],
    'changeName' => ['name' => "d6-$RUN"],
];
$badIds = ['', '0', '-1', '042', '+42', '42.0', '4 2', ' 42', '42 ', '2147483648', '99999999999', 'abc', '0x2a', '42abc', '1e3', '٤٢'];
foreach ($idActions as $a => $p) {
    foreach ($badIds as $i => $bad) {
        $m = $i % 3 === 0 ? 'POST' : 'GET';
        $r = id_action($a, $bad, $p, null, $m);
        expect_status($r, 'REQUEST_MISSING_DATA', "D6 do=$a id=" . var_export($bad, true) . " (key md5(MK.id)) → REQUEST_MISSING_DATA [$m]");
    }
    expect_status(ips_call('GET', ['do' => $a, 'key' => $MK] + $p), 'REQUEST_MISSING_DATA', "D6 do=$a without id, key = raw MK → REQUEST_MISSING_DATA");
    expect_status(ips_raw('GET', "do=$a&key=$MK&" . ips_query($p) . '&id[]=42'), 'REQUEST_MISSING_DATA', "D6/D2 do=$a with id[]=42 → REQUEST_MISSING_DATA");
}
expect_status(id_action('delete', '2147483647'), 'SUCCESS', 'D6 id 2147483647 (int32 max) is well-formed: delete of that unknown id → SUCCESS');
expect_nothing_propagated('changeEmail', ['email' => "d6.$RUN@example.test"], 'D6 malformed ids');
expect_nothing_propagated('changeName', ['name' => "d6-$RUN"], 'D6 malformed ids');
expect_nothing_propagated('delete', ['id' => '2147483647'], 'D6/D10 delete of an unknown id');

// ================================================================================================
Tap::section('D7 idType, D8 case-insensitive matching (incl. UTF-8)');
// ================================================================================================
$J = ['name' => 'Jürgen', 'email' => 'jürgen@example.test', 'salt' => ALICE_SALT, 'plain' => 'pässwörd✓', 'hash' => UTF8_HASH, 'id' => null];
must_register($J, '§8 vector: register Jürgen / jürgen@example.test with the pässwörd✓ hash', 'GET', 'A');
expect_body(ips_call('GET', ['do' => 'fetchSalt', 'key' => 'f615eca5bcb79908f1df482e37e7f6f3', 'idType' => '2', 'id' => 'jürgen@example.test']), '{"status":"SUCCESS","pass_salt":"abcdefghijklmnopqrstuv"}', '§8 vector: fetchSalt jürgen@example.test with key f615… (UTF-8 bytes)');
$jOk = '{"status":"SUCCESS","connect_status":"SUCCESS","email":"j\u00fcrgen@example.test","name":"J\u00fcrgen","connect_id":' . $J['id'] . ',"connect_revalidate_url":null}';
expect_body(ips_call('POST', ['do' => 'login', 'key' => 'f615eca5bcb79908f1df482e37e7f6f3', 'idType' => '2', 'id' => 'jürgen@example.test', 'password' => UTF8_HASH]), $jOk, '§8/D3 login Jürgen with the UTF-8 password hash; non-ASCII as \uXXXX [POST]');
expect_body(login($J, 'GET', null, '2', 'JÜRGEN@EXAMPLE.TEST'), $jOk, 'D8 login by e-mail in Unicode upper case (JÜRGEN@EXAMPLE.TEST)');
expect_body(login($J, 'GET', null, '1', 'JÜRGEN'), $jOk, 'D8 login by name in Unicode upper case (JÜRGEN)');
expect_body(fetch_salt('2', 'jurgen@example.test'), '{"status":"ACCOUNT_NOT_FOUND"}', 'D8 no accent folding: jurgen@example.test is not jürgen@example.test');
both(['do' => 'checkEmail', 'key' => $MK, 'email' => 'JÜRGEN@example.test'], '{"status":"SUCCESS","used":1}', 'D8 checkEmail JÜRGEN@example.test → used 1');
both(['do' => 'checkName', 'key' => $MK, 'name' => 'jÜrgen'], '{"status":"SUCCESS","used":1}', 'D8 checkName jÜrgen → used 1');
both(['do' => 'register', 'key' => $MK, 'name' => "Other$RUN", 'email' => 'JÜRGEN@EXAMPLE.TEST', 'pass_hash' => BOB_HASH, 'pass_salt' => BOB_SALT, 'revalidateUrl' => '', 'url' => $SA], '{"status":"EMAIL_IN_USE"}', 'D8/D9 e-mails are unique case-insensitively (JÜRGEN@EXAMPLE.TEST) → EMAIL_IN_USE');
both(['do' => 'register', 'key' => $MK, 'name' => 'JÜRGEN', 'email' => "other.$RUN@example.test", 'pass_hash' => BOB_HASH, 'pass_salt' => BOB_SALT, 'revalidateUrl' => '', 'url' => $SA], '{"status":"USERNAME_IN_USE"}', 'D8/D9 names are unique case-insensitively (JÜRGEN) → USERNAME_IN_USE');

$D7 = plain_account('idtype');
must_register($D7, 'D7 account registered', 'GET', 'A');
$saltD7 = php_json(['status' => 'SUCCESS', 'pass_salt' => $D7['salt']]);
$idD7 = php_json(['status' => 'SUCCESS', 'connect_id' => $D7['id']]);
$loginD7 = login_body($D7);
$upperName = strtoupper($D7['name']);
$upperMail = strtoupper($D7['email']);
foreach ([['1', $D7['name']], ['name', $D7['name']], ['username', $D7['name']], ['2', $D7['email']], ['email', $D7['email']], ['3', $D7['email']], ['3', $D7['name']], ['1', $upperName], ['2', $upperMail], ['3', $upperMail], ['email', $upperMail], ['name', $upperName]] as [$t, $id]) {
    expect_body(fetch_salt($t, $id), $saltD7, "D7/D8 fetchSalt idType=$t id=$id");
    expect_body(fetch_id($t, $id), $idD7, "D7/D8 fetchId idType=$t id=$id");
    expect_body(login($D7, 'GET', null, $t, $id), $loginD7, "D7/D8 login idType=$t id=$id");
}
foreach ([['0', $D7['email']], ['4', $D7['email']], ['member_id', (string) $D7['id']], ['members_pass_salt', $D7['salt']], ['pass_salt', $D7['salt']], ['id', (string) $D7['id']], ['connect_id', (string) $D7['id']], ['1 OR 1=1', $D7['email']], ['1', $D7['email']], ['username', $D7['email']], ['2', $D7['name']], ['email', $D7['name']]] as [$t, $id]) {
    expect_body(fetch_salt($t, $id), '{"status":"ACCOUNT_NOT_FOUND"}', "D7 fetchSalt idType=" . var_export($t, true) . " id=$id → ACCOUNT_NOT_FOUND");
    expect_body(fetch_id($t, $id), '{"status":"ACCOUNT_NOT_FOUND"}', "D7 fetchId idType=" . var_export($t, true) . " id=$id → ACCOUNT_NOT_FOUND");
}
foreach ([['member_id', (string) $D7['id']], ['4', $D7['email']], ['1', $D7['email']]] as [$t, $id]) {
    expect_body(login($D7, 'POST', null, $t, $id), '{"status":"ACCOUNT_NOT_FOUND"}', "D7 login idType=$t id=$id → ACCOUNT_NOT_FOUND");
}

// ================================================================================================
Tap::section('D11 validation: register with revalidateUrl → VALIDATING, validate clears it');
// ================================================================================================
$V = account("Välidating $RUN", "validating.$RUN@example.test", 'pässwörd✓ v');
must_register($V, 'D11 register with revalidateUrl=http://127.0.0.1:8081/', 'GET', 'A', 'http://127.0.0.1:8081/');
expect_body(login($V, 'GET'), login_body($V, 'VALIDATING', 'http://127.0.0.1:8081/'), '§8.3/D11 login of an account awaiting validation → VALIDATING with connect_revalidate_url (\/ escaped)');
expect_body(login($V, 'POST'), login_body($V, 'VALIDATING', 'http://127.0.0.1:8081/'), '§8.3/D11 same, POST');
expect_status(id_action('validate', (string) $V['id'], [], $SA), 'SUCCESS', 'D11 validate from slave A → SUCCESS');
expect_body(login($V), login_body($V), 'D11 after validate: connect_status SUCCESS, connect_revalidate_url null');
expect_status(id_action('validate', (string) $V['id'], [], $SA, 'POST'), 'SUCCESS', 'D11 validating again → SUCCESS');
// §2.9: validate always propagates when the member exists (D10's "nothing new" is about change* only)
expect_propagation('validate', ['id' => (string) $V['id']], 'A', 'D11 validate propagated (twice: once per call)', false, 2);

// ================================================================================================
Tap::section('D12 brute force: lock after 5 failures, ACCOUNT_LOCKED even with the right password');
// ================================================================================================
$L = plain_account('lock');
must_register($L, 'D12 account L registered', 'GET', 'A');
$wrongL = fake_bcrypt($L['salt']);
$seq = [];
foreach ([['2', 'GET'], ['2', 'POST'], ['2', 'GET'], ['1', 'GET'], ['1', 'POST']] as $i => [$t, $m]) {
    $r = login($L, $m, $wrongL, $t);
    $seq[] = json_status($r);
    expect_status($r, 'WRONG_AUTH', 'D12 failure ' . ($i + 1) . " (idType=$t, $m) → WRONG_AUTH");
}
expect_status(login($L, 'GET', null, '2'), 'ACCOUNT_LOCKED', 'D12 after 5 failures (by e-mail and by name: counted per account) the right password → ACCOUNT_LOCKED');
expect_status(login($L, 'POST', $wrongL, '1'), 'ACCOUNT_LOCKED', 'D12 locked: a wrong password → ACCOUNT_LOCKED too');
expect_status(login($L, 'GET', null, '3'), 'ACCOUNT_LOCKED', 'D12 locked: idType=3 → ACCOUNT_LOCKED');
expect_status(login($L, 'GET', 'not a hash', '2'), 'ACCOUNT_LOCKED', 'D12 locked: checked before any comparison, even for a malformed password');
expect_body(fetch_salt('2', $L['email']), php_json(['status' => 'SUCCESS', 'pass_salt' => $L['salt']]), 'D12 the lock only affects login (fetchSalt still works)');
if (admin_available()) {
    $r = admin('GET', '/admin/members/locked');
    ok($r->status === 200 && json_has_id($r->json(), (int) $L['id']), 'D12 GET /admin/members/locked lists account L', $r->describe());
    $r = admin('POST', '/admin/members/' . $L['id'] . '/unlock');
    ok($r->status >= 200 && $r->status < 300, 'D12 POST /admin/members/:id/unlock → 2xx', $r->describe());
    expect_body(login($L), login_body($L), 'D12 after the admin unlock the right password → SUCCESS');
    $r = admin('GET', '/admin/members/locked');
    ok($r->status === 200 && !json_has_id($r->json(), (int) $L['id']), 'D12 unlocked account L is no longer listed', $r->describe());
    expect_status(login($L, 'GET', $wrongL), 'WRONG_AUTH', 'D12 after unlock + success the count starts again: one failure → WRONG_AUTH');
    expect_body(login($L), login_body($L), 'D12 … and the right password → SUCCESS');
} else {
    Tap::skip('D12 admin list/unlock of locked members', 'IPS_ADMIN_URL not set');
}
$R = plain_account('reset');
must_register($R, 'D12 account R registered', 'GET', 'A');
$wrongR = fake_bcrypt($R['salt']);
$statuses = [];
foreach ([0, 1, 2, 3] as $_) {
    $statuses[] = json_status(login($R, 'GET', $wrongR));
}
$statuses[] = json_status(login($R));
foreach ([0, 1, 2, 3] as $_) {
    $statuses[] = json_status(login($R, 'POST', $wrongR));
}
$statuses[] = json_status(login($R));
is($statuses, ['WRONG_AUTH', 'WRONG_AUTH', 'WRONG_AUTH', 'WRONG_AUTH', 'SUCCESS', 'WRONG_AUTH', 'WRONG_AUTH', 'WRONG_AUTH', 'WRONG_AUTH', 'SUCCESS'], 'D12 a success resets the count: 4 failures, success, 4 failures, success → never locked');
$U = plain_account('unknown-lock');
$statuses = [];
foreach (range(1, 6) as $_) {
    $statuses[] = json_status(login($U, 'GET', fake_bcrypt($U['salt'])));
}
is(array_unique($statuses), ['ACCOUNT_NOT_FOUND'], 'D12 unknown accounts: repeated attempts keep answering ACCOUNT_NOT_FOUND');

// ================================================================================================
Tap::section('D13 password formats');
// ================================================================================================
$P = plain_account('format');
must_register($P, 'D13 account registered', 'GET', 'A');
$fmt = [
    'plaintext' => $P['plain'],
    '$2y$ prefix' => '$2y$' . substr($P['hash'], 4),
    '$2a$10$ cost' => '$2a$10$' . substr($P['hash'], 7),
    'trailing newline' => $P['hash'] . "\n",
    'upper-case hash' => strtoupper($P['hash']),
];
$i = 0;
foreach ($fmt as $what => $pw) {
    expect_status(login($P, $i % 2 ? 'POST' : 'GET', $pw), 'WRONG_AUTH', "D13 login with the right hash as $what → WRONG_AUTH");
    if (++$i % 2 === 0) {
        expect_body(login($P), login_body($P), 'D13 (right hash in between, so that D12 does not lock)');
    }
}
expect_body(login($P), login_body($P), 'D13 the exact 60-character hash → SUCCESS');
foreach (['*0' => '*0', '*1' => '*1'] as $what => $pw) {
    expect_status(login($P, 'GET', $pw), 'WRONG_AUTH', "D13/§3.2 crypt failure string $what → WRONG_AUTH");
}
expect_body(login($P), login_body($P), 'D13 right hash again → SUCCESS');

// legacy 5-character salts
$LG = account("Legacy $RUN", "legacy.$RUN@example.test", 'secret', LEGACY_SALT);
is($LG['hash'], LEGACY_SECRET_HASH, 'harness: legacy account hash is the §8 "secret" vector');
must_register($LG, '§3.2 register a legacy account (salt a1B2c, md5 hash) from slave A', 'GET', 'A');
expect_body(fetch_salt('2', $LG['email']), '{"status":"SUCCESS","pass_salt":"a1B2c"}', '§3.2 fetchSalt returns the 5-character salt unchanged');
expect_body(login($LG, 'POST', LEGACY_SECRET_HASH), login_body($LG), '§3.2/§8 legacy login with ac0deea7… → SUCCESS');
expect_status(login($LG, 'GET', strtoupper(LEGACY_SECRET_HASH)), 'WRONG_AUTH', 'D13 legacy hash in upper-case hex → WRONG_AUTH');
expect_status(login($LG, 'GET', 'secret'), 'WRONG_AUTH', 'D13 legacy account with the plaintext → WRONG_AUTH');
expect_body(login($LG, 'GET', LEGACY_SECRET_HASH), login_body($LG), '§3.2 legacy login again → SUCCESS');

if (admin_available()) {
    $LA = ['name' => "Legacy Admin $RUN", 'email' => "legacy.admin.$RUN@example.test", 'salt' => LEGACY_SALT, 'plain' => LEGACY_PLAIN, 'hash' => LEGACY_HASH, 'id' => null];
    $r = admin('POST', '/admin/members', ['name' => $LA['name'], 'email' => $LA['email'], 'password' => LEGACY_PLAIN, 'pass_salt' => LEGACY_SALT]);
    $j = $r->json();
    $LA['id'] = is_array($j) && is_int($j['id'] ?? null) ? $j['id'] : null;
    ok($r->status === 201 && $LA['id'] !== null && $LA['id'] > 43, 'admin API creates a legacy member (pass_salt a1B2c) with the next id', $r->describe());
    expect_body(fetch_salt('2', $LA['email']), '{"status":"SUCCESS","pass_salt":"a1B2c"}', '§3.2 admin-created legacy member: fetchSalt → a1B2c');
    expect_body(login($LA, 'GET', LEGACY_HASH), login_body($LA), '§8 legacy vector: p@ss<word>&"! → bcd5fd83… (legacyEscape) → SUCCESS');
    expect_body(login($LA, 'POST', legacy_hash(LEGACY_PLAIN, LEGACY_SALT)), login_body($LA), '§3.2 legacy hash computed by the harness → SUCCESS [POST]');
    if ($LA['id'] !== null) {
        expect_propagation('register', ['name' => $LA['name'], 'email' => $LA['email'], 'pass_hash' => LEGACY_HASH, 'pass_salt' => LEGACY_SALT, 'id' => (string) $LA['id'], 'revalidateUrl' => ''], null, '§2.17/D15 admin-created legacy member propagated to every slave', true);
    }

    $AD = ['name' => "Admin Made $RUN", 'email' => "admin.made.$RUN@example.test", 'plain' => "pässwörd✓ $RUN", 'salt' => '', 'hash' => '', 'id' => null];
    $r = admin('POST', '/admin/members', ['name' => $AD['name'], 'email' => $AD['email'], 'password' => $AD['plain']]);
    $j = $r->json();
    $AD['id'] = is_array($j) && is_int($j['id'] ?? null) ? $j['id'] : null;
    ok($r->status === 201 && $AD['id'] !== null, 'admin API creates a member with a generated salt', $r->describe());
    $s = fetch_salt('2', $AD['email'])->json();
    $AD['salt'] = is_array($s) && is_string($s['pass_salt'] ?? null) ? $s['pass_salt'] : '';
    ok((bool) preg_match('/^[0-9A-Za-z]{22}$/', $AD['salt']), '§3.2 the generated salt is 22 characters of [0-9A-Za-z]', show($s));
    if ($AD['salt'] !== '') {
        $AD['hash'] = ips_bcrypt($AD['plain'], $AD['salt']);
        expect_body(login($AD, 'POST'), login_body($AD), '§3.2 the admin API stored crypt(password, $2a$13$salt) exactly as PHP computes it (UTF-8 password)');
        expect_propagation('register', ['name' => $AD['name'], 'email' => $AD['email'], 'pass_hash' => $AD['hash'], 'pass_salt' => $AD['salt'], 'id' => (string) $AD['id'], 'revalidateUrl' => ''], null, '§2.17/D15 admin-created member propagated to every slave', true);
    }
} else {
    Tap::skip('admin-created legacy member and bcrypt compatibility', 'IPS_ADMIN_URL not set');
}

// ================================================================================================
Tap::section('§8.7 changePassword (from slave A) and propagation');
// ================================================================================================
expect_body(
    ips_raw('GET', 'do=changePassword&key=ef7d05c70b4fddc71bb6d4449bfdd60e&url=' . $SA . '&pass_hash=$2a$13$ABCDEFGHIJKLMNOPQRSTUOPP139/pBRb4Bb7sZUqu.9S/aS1.lzN6&pass_salt=ABCDEFGHIJKLMNOPQRSTUV&id=42'),
    '{"status":"SUCCESS"}',
    '§8.7 changePassword Alice from slave A',
);
expect_propagation('changePassword', ['id' => '42', 'pass_hash' => NEW_HASH, 'pass_salt' => NEW_SALT], 'A', '§8.7 changePassword propagated');
both(['do' => 'fetchSalt', 'key' => 'a6f74b02ac80d8417e3775c38f44a322', 'idType' => '2', 'id' => 'alice@example.test'], '{"status":"SUCCESS","pass_salt":"ABCDEFGHIJKLMNOPQRSTUV"}', '§8.7 afterwards fetchSalt(Alice) → ABCDEFGHIJKLMNOPQRSTUV');
expect_body(ips_call('GET', login_params('2', 'alice@example.test', ALICE_HASH)), '{"status":"WRONG_AUTH"}', '§8.7 the old hash → WRONG_AUTH');
both(login_params('2', 'alice@example.test', NEW_HASH), $ALICE_OK, '§8.7 the new hash → SUCCESS');
expect_status(id_action('changePassword', '42', ['pass_hash' => NEW_HASH], $SA), 'REQUEST_MISSING_DATA', '§2.15 changePassword without pass_salt → REQUEST_MISSING_DATA');
expect_status(id_action('changePassword', '42', ['pass_salt' => NEW_SALT], $SA, 'POST'), 'REQUEST_MISSING_DATA', '§2.15 changePassword without pass_hash → REQUEST_MISSING_DATA');
expect_status(id_action('changePassword', '42', ['pass_hash' => '', 'pass_salt' => NEW_SALT], $SA), 'REQUEST_MISSING_DATA', '§2.15 changePassword with empty pass_hash → REQUEST_MISSING_DATA');

// ================================================================================================
Tap::section('§8.8 changeEmail / changeName');
// ================================================================================================
expect_body(ips_raw('GET', 'do=changeEmail&key=ef7d05c70b4fddc71bb6d4449bfdd60e&url=' . $SA . '&email=alice2@example.test&id=42'), '{"status":"SUCCESS"}', '§8.8 changeEmail Alice → alice2@example.test');
expect_propagation('changeEmail', ['id' => '42', 'email' => 'alice2@example.test'], 'A', '§8.8 changeEmail propagated');
expect_body(ips_raw('GET', 'do=changeEmail&key=ef7d05c70b4fddc71bb6d4449bfdd60e&url=' . $SA . '&email=bob@example.test&id=42'), '{"status":"EMAIL_IN_USE"}', '§8.8 changeEmail to Bob\'s address → EMAIL_IN_USE');
expect_body(ips_raw('POST', 'do=changeEmail&key=ef7d05c70b4fddc71bb6d4449bfdd60e&url=' . rawurlencode($SA) . '&email=BOB%40EXAMPLE.TEST&id=42'), '{"status":"EMAIL_IN_USE"}', 'D8 changeEmail to BOB@EXAMPLE.TEST → EMAIL_IN_USE [POST]');
expect_nothing_propagated('changeEmail', ['id' => '42', 'email' => 'bob@example.test'], '§8.8 EMAIL_IN_USE');
expect_body(ips_raw('GET', 'do=changeEmail&key=ef7d05c70b4fddc71bb6d4449bfdd60e&url=' . $SA . '&id=42'), '{"status":"REQUEST_MISSING_DATA"}', '§8.8 changeEmail without email → REQUEST_MISSING_DATA');
expect_body(ips_raw('GET', 'do=changeEmail&key=ef7d05c70b4fddc71bb6d4449bfdd60e&url=' . $SA . '&email=alice2@example.test&id=42'), '{"status":"SUCCESS"}', 'D10 changeEmail to the current value → SUCCESS (propagates nothing new)');
expect_body(ips_raw('GET', 'do=changeName&key=ef7d05c70b4fddc71bb6d4449bfdd60e&url=' . $SA . '&name=Alicia&id=42'), '{"status":"SUCCESS"}', '§8.8 changeName Alice → Alicia');
expect_propagation('changeName', ['id' => '42', 'name' => 'Alicia'], 'A', '§8.8 changeName propagated');
expect_body(ips_raw('GET', 'do=changeName&key=ef7d05c70b4fddc71bb6d4449bfdd60e&url=' . $SA . '&name=Bob&id=42'), '{"status":"USERNAME_IN_USE"}', '§8.8 changeName to Bob → USERNAME_IN_USE');
expect_body(ips_raw('POST', 'do=changeName&key=ef7d05c70b4fddc71bb6d4449bfdd60e&url=' . rawurlencode($SA) . '&name=bOB&id=42'), '{"status":"USERNAME_IN_USE"}', 'D8 changeName to bOB → USERNAME_IN_USE [POST]');
expect_nothing_propagated('changeName', ['id' => '42', 'name' => 'Bob'], '§8.8 USERNAME_IN_USE');
expect_body(ips_raw('GET', 'do=changeName&key=ef7d05c70b4fddc71bb6d4449bfdd60e&url=' . $SA . '&id=42'), '{"status":"REQUEST_MISSING_DATA"}', '§2.16 changeName without name → REQUEST_MISSING_DATA');
expect_body(ips_raw('POST', 'do=changeName&key=ef7d05c70b4fddc71bb6d4449bfdd60e&url=' . rawurlencode($SA) . '&name=Alicia&id=42'), '{"status":"SUCCESS"}', 'D10 changeName to the current value → SUCCESS (propagates nothing new)');
$ALICIA = ['name' => 'Alicia', 'email' => 'alice2@example.test', 'id' => 42];
both(login_params('2', 'alice2@example.test', NEW_HASH), login_body($ALICIA), '§2.4 login returns the master\'s current e-mail and name (alice2@example.test, Alicia)');
both(['do' => 'checkEmail', 'key' => $MK, 'email' => 'alice@example.test'], '{"status":"SUCCESS","used":0}', '§2.14 the old e-mail is free after changeEmail');
// back to the state after §8.6 for §8.9 (each §8.9 line starts from there)
expect_status(id_action('changePassword', '42', ['pass_hash' => ALICE_HASH, 'pass_salt' => ALICE_SALT], $SA), 'SUCCESS', 'restore Alice\'s password (changePassword)');
expect_status(id_action('changeEmail', '42', ['email' => 'alice@example.test'], $SA), 'SUCCESS', 'restore Alice\'s e-mail (changeEmail)');
expect_status(id_action('changeName', '42', ['name' => 'Alice'], $SA), 'SUCCESS', 'restore Alice\'s name (changeName)');
expect_propagation('changePassword', ['id' => '42', 'pass_hash' => ALICE_HASH, 'pass_salt' => ALICE_SALT], 'A', 'restore Alice\'s password propagated');
expect_propagation('changeEmail', ['id' => '42', 'email' => 'alice@example.test'], 'A', 'restore Alice\'s e-mail propagated');
expect_propagation('changeName', ['id' => '42', 'name' => 'Alice'], 'A', 'restore Alice\'s name propagated');
expect_body(ips_call('GET', login_params('2', 'alice@example.test', ALICE_HASH)), $ALICE_OK, 'Alice is back to the §8 state (login)');

// ================================================================================================
Tap::section('§8.9 validate / ban / merge / delete');
// ================================================================================================
expect_body(ips_raw('GET', 'do=validate&key=cb5da35a2b8d4580af776ebbfe222281&url=' . $SA . '&id=43'), '{"status":"SUCCESS"}', '§8.9 validate 43');
expect_propagation('validate', ['id' => '43'], 'A', '§8.9 validate propagated');
expect_body(ips_raw('GET', 'do=ban&key=ef7d05c70b4fddc71bb6d4449bfdd60e&url=' . $SA . '&status=1&id=42'), '{"status":"SUCCESS"}', '§8.9 ban 42');
expect_propagation('ban', ['id' => '42', 'status' => '1'], 'A', '§8.9 ban propagated');
expect_body(ips_raw('POST', 'do=ban&key=ef7d05c70b4fddc71bb6d4449bfdd60e&url=' . rawurlencode($SA) . '&status=0&id=42'), '{"status":"SUCCESS"}', '§2.11 unban 42 (status=0) [POST]');
expect_propagation('ban', ['id' => '42', 'status' => '0'], 'A', '§2.11 unban propagated with status=0');
// merge: §8.9's shape and keys (id=42 kept), with a fresh account as `remove` so that Bob stays for delete
$Z = plain_account('merged');
must_register($Z, '§8.9 account to merge into Alice registered', 'GET', 'A');
expect_body(ips_raw('GET', 'do=merge&key=ef7d05c70b4fddc71bb6d4449bfdd60e&url=' . $SA . '&remove=' . $Z['id'] . '&id=42'), '{"status":"SUCCESS"}', '§8.9 merge remove=<fresh> into id=42');
expect_propagation('merge', ['id' => '42', 'remove' => (string) $Z['id']], 'A', '§8.9 merge propagated (key over id only)');
expect_body(fetch_id('email', $Z['email']), '{"status":"ACCOUNT_NOT_FOUND"}', '§2.12 the removed account is deleted on the master');
expect_body(fetch_id('email', 'alice@example.test'), '{"status":"SUCCESS","connect_id":42}', '§2.12 the kept account remains #42');
expect_body(ips_call('GET', login_params('2', 'alice@example.test', ALICE_HASH)), $ALICE_OK, '§2.12 the kept account keeps its own credentials, e-mail and name');
expect_body(ips_raw('GET', 'do=delete&key=' . key_for($MK, '999') . '&id=999'), '{"status":"SUCCESS"}', '§8.9 delete of an unknown id 999 → SUCCESS');
expect_nothing_propagated('delete', ['id' => '999'], '§8.9 delete 999');
expect_body(ips_raw('GET', 'do=merge&key=ef7d05c70b4fddc71bb6d4449bfdd60e&url=' . $SA . '&remove=999&id=42'), '{"status":"SUCCESS"}', '§8.9 merge of an unknown remove=999 → SUCCESS');
expect_nothing_propagated('merge', ['remove' => '999'], '§8.9 merge remove=999');
$W = plain_account('kept-unknown');
must_register($W, 'account W registered', 'GET', 'A');
expect_status(id_action('merge', '999', ['remove' => (string) $W['id']], $SA), 'SUCCESS', 'D10 merge into an unknown id → SUCCESS');
expect_body(fetch_id('email', $W['email']), php_json(['status' => 'SUCCESS', 'connect_id' => $W['id']]), 'D10 … and nothing was merged (remove still exists)');
expect_nothing_propagated('merge', ['id' => '999'], 'D10 merge into 999');
foreach (['validate' => [], 'ban' => ['status' => '1'], 'changeEmail' => ['email' => "unknown.$RUN@example.test"], 'changeName' => ['name' => "unknown-$RUN"], 'changePassword' => ['pass_hash' => NEW_HASH, 'pass_salt' => NEW_SALT], 'delete' => []] as $a => $p) {
    expect_status(id_action($a, '999999', $p, $SA), 'SUCCESS', "D10 do=$a on an unknown id → SUCCESS");
    expect_nothing_propagated($a, ['id' => '999999'], "D10 do=$a on an unknown id");
}
// merge with the remote= alias (§2.12, contract)
$K1 = plain_account('keep');
$K2 = plain_account('remote');
must_register($K1, 'merge alias: account kept registered', 'GET', 'A');
must_register($K2, 'merge alias: account removed registered', 'GET', 'A');
expect_status(id_action('merge', (string) $K1['id'], ['remote' => (string) $K2['id']], $SA, 'POST'), 'SUCCESS', '§2.12 merge with remote= (client bug alias) → SUCCESS');
expect_body(fetch_id('email', $K2['email']), '{"status":"ACCOUNT_NOT_FOUND"}', '§2.12 remote= alias: the removed account is gone');
expect_propagation('merge', ['id' => (string) $K1['id'], 'remove' => (string) $K2['id']], 'A', '§2.12 remote= alias propagated as remove=');

// ================================================================================================
// Own accounts: every action once with GET (origin A) and once with POST (origin B)
// ================================================================================================
foreach ([['GET', 'A'], ['POST', 'B']] as [$m, $o]) {
    Tap::section("Own random account, every action, $m from slave $o");
    $oUrl = $SURL[$o];
    $tag = rnd(5);
    $X = account("Zoë Ünïcode $tag", "zoë.$tag.$RUN@example.test", "pässwörd✓ $tag");
    $Y = account("Yann $tag", "yann.$tag.$RUN@example.test", "hunter2 $tag");
    both(['do' => 'checkEmail', 'key' => $MK, 'email' => $X['email']], '{"status":"SUCCESS","used":0}', "own: checkEmail before register → used 0");
    both(['do' => 'checkName', 'key' => $MK, 'name' => $X['name']], '{"status":"SUCCESS","used":0}', "own: checkName before register → used 0");
    must_register($X, "own: register a UTF-8 account [$m]", $m, $o);
    must_register($Y, "own: register a second account [$m]", $m, $o);
    if ($X['id'] === null || $Y['id'] === null) {
        continue;
    }
    $xid = (string) $X['id'];
    ok($X['id'] !== $Y['id'], 'own: distinct accounts get distinct ids', "{$X['id']} vs {$Y['id']}");
    expect_body(ips_call($m, ['do' => 'checkEmail', 'key' => $MK, 'email' => $X['email']]), '{"status":"SUCCESS","used":1}', "own: checkEmail after register → used 1 [$m]");
    expect_body(ips_call($m, ['do' => 'checkName', 'key' => $MK, 'name' => $X['name']]), '{"status":"SUCCESS","used":1}', "own: checkName after register → used 1 [$m]");
    expect_body(fetch_salt('2', $X['email'], $m), php_json(['status' => 'SUCCESS', 'pass_salt' => $X['salt']]), "own: fetchSalt by UTF-8 e-mail [$m]");
    expect_body(fetch_salt('1', $X['name'], $m), php_json(['status' => 'SUCCESS', 'pass_salt' => $X['salt']]), "own: fetchSalt by UTF-8 name [$m]");
    expect_body(ips_call($m, login_params('2', $X['email'], $X['hash'], $oUrl)), login_body($X), "own: login with crypt(pässwörd✓…) and a random salt; body byte-exact with \\u escapes [$m]");
    expect_body(fetch_id('email', $X['email'], $m), php_json(['status' => 'SUCCESS', 'connect_id' => $X['id']]), "own: fetchId idType=email [$m]");
    // changePassword: fresh 22-char salt per change, like the IPS slave
    $newSalt = gen_salt();
    $newHash = ips_bcrypt("nëw pässwörd $tag", $newSalt);
    expect_status(id_action('changePassword', $xid, ['pass_hash' => $newHash, 'pass_salt' => $newSalt], $oUrl, $m), 'SUCCESS', "own: changePassword [$m]");
    expect_propagation('changePassword', ['id' => $xid, 'pass_hash' => $newHash, 'pass_salt' => $newSalt], $o, "own: changePassword [$m]");
    $oldHash = $X['hash'];
    $X['salt'] = $newSalt;
    $X['hash'] = $newHash;
    expect_body(fetch_salt('2', $X['email'], $m), php_json(['status' => 'SUCCESS', 'pass_salt' => $newSalt]), "own: fetchSalt returns the new salt [$m]");
    expect_status(ips_call($m, login_params('2', $X['email'], $oldHash)), 'WRONG_AUTH', "own: the old hash → WRONG_AUTH [$m]");
    expect_body(ips_call($m, login_params('2', $X['email'], $newHash)), login_body($X), "own: the new hash → SUCCESS [$m]");
    // changeEmail / changeName
    $newMail = "ëmail.$tag.$RUN@example.test";
    expect_status(id_action('changeEmail', $xid, ['email' => $newMail], $oUrl, $m), 'SUCCESS', "own: changeEmail to a UTF-8 address [$m]");
    expect_propagation('changeEmail', ['id' => $xid, 'email' => $newMail], $o, "own: changeEmail [$m]");
    expect_body(fetch_id('2', $X['email'], $m), '{"status":"ACCOUNT_NOT_FOUND"}', "own: the old e-mail no longer finds the account [$m]");
    $X['email'] = $newMail;
    expect_body(fetch_id('2', $newMail, $m), php_json(['status' => 'SUCCESS', 'connect_id' => $X['id']]), "own: the new e-mail finds it [$m]");
    expect_status(id_action('changeEmail', $xid, ['email' => $Y['email']], $oUrl, $m), 'EMAIL_IN_USE', "own: changeEmail to the other account's address → EMAIL_IN_USE [$m]");
    expect_nothing_propagated('changeEmail', ['id' => $xid, 'email' => $Y['email']], "own: EMAIL_IN_USE [$m]");
    expect_status(id_action('changeEmail', $xid, ['email' => $newMail], $oUrl, $m), 'SUCCESS', "own/D10: changeEmail to its own current address → SUCCESS [$m]");
    $newName = "Nëw Nämé $tag";
    expect_status(id_action('changeName', $xid, ['name' => $newName], $oUrl, $m), 'SUCCESS', "own: changeName to a UTF-8 name [$m]");
    expect_propagation('changeName', ['id' => $xid, 'name' => $newName], $o, "own: changeName [$m]");
    expect_status(id_action('changeName', $xid, ['name' => $Y['name']], $oUrl, $m), 'USERNAME_IN_USE', "own: changeName to the other account's name → USERNAME_IN_USE [$m]");
    expect_nothing_propagated('changeName', ['id' => $xid, 'name' => $Y['name']], "own: USERNAME_IN_USE [$m]");
    expect_status(id_action('changeName', $xid, ['name' => $newName], $oUrl, $m), 'SUCCESS', "own/D10: changeName to its own current name → SUCCESS [$m]");
    expect_body(ips_call($m, ['do' => 'checkName', 'key' => $MK, 'name' => $X['name']]), '{"status":"SUCCESS","used":0}', "own: the old name is free [$m]");
    $X['name'] = $newName;
    expect_body(ips_call($m, login_params('1', $newName, $newHash)), login_body($X), "own: login by the new name returns the new e-mail and name [$m]");
    // ban / unban / validate
    expect_status(id_action('ban', $xid, ['status' => '1'], $oUrl, $m), 'SUCCESS', "own: ban [$m]");
    expect_propagation('ban', ['id' => $xid, 'status' => '1'], $o, "own: ban [$m]");
    expect_status(id_action('ban', $xid, ['status' => '0'], $oUrl, $m), 'SUCCESS', "own: unban [$m]");
    expect_propagation('ban', ['id' => $xid, 'status' => '0'], $o, "own: unban [$m]");
    expect_status(id_action('validate', $xid, [], $oUrl, $m), 'SUCCESS', "own: validate [$m]");
    expect_propagation('validate', ['id' => $xid], $o, "own: validate [$m]");
    // merge Y into X, then delete X
    expect_status(id_action('merge', $xid, ['remove' => (string) $Y['id']], $oUrl, $m), 'SUCCESS', "own: merge [$m]");
    expect_propagation('merge', ['id' => $xid, 'remove' => (string) $Y['id']], $o, "own: merge [$m]");
    expect_body(fetch_salt('2', $Y['email'], $m), '{"status":"ACCOUNT_NOT_FOUND"}', "own: merged account is gone [$m]");
    expect_status(id_action('delete', $xid, [], $oUrl, $m), 'SUCCESS', "own: delete [$m]");
    expect_propagation('delete', ['id' => $xid], $o, "own: delete [$m]");
    expect_body(ips_call($m, login_params('2', $X['email'], $newHash)), '{"status":"ACCOUNT_NOT_FOUND"}', "own: deleted account → ACCOUNT_NOT_FOUND [$m]");
    expect_status(id_action('delete', $xid, [], $oUrl, $m), 'SUCCESS', "own/D10: deleting it again → SUCCESS [$m]");
    $X2 = account("Zoë Again $tag", $X['email'], 'again');
    must_register($X2, "own: the deleted account's e-mail can be registered again [$m]", $m, $o);
    ok($X2['id'] !== null && $X2['id'] > max($X['id'], $Y['id']), "D6 member ids are never reused (new id {$X2['id']} > {$Y['id']})", show($X2['id']));
}

// ================================================================================================
Tap::section('D5 per-slave master keys');
// ================================================================================================
if (admin_available()) {
    $SC = "http://127.0.0.1:9/slave-c-$RUN/ipsconnect.php";
    $r = admin('POST', '/admin/slaves', ['url' => $SC]);
    $j = $r->json();
    $pk = is_array($j) && is_string($j['master_key'] ?? null) ? $j['master_key'] : '';
    ok($r->status === 201 && $pk !== '' && ($j['url'] ?? null) === $SC && isset($j['id']), 'D5 POST /admin/slaves issues a per-slave master key', $r->describe());
    ok($pk !== $MK && strlen($pk) >= 32, 'D5 the per-slave key is not the global key and has ≥ 32 characters', show($pk));
    if ($pk !== '') {
        $C = plain_account('perslave');
        must_register($C, 'account for the D5 checks registered', 'GET', 'A');
        expect_body(ips_call('GET', ['do' => 'verifySettings', 'key' => $pk, 'url' => $SC, 'ourKey' => 'slave-c-key-' . $RUN]), '{"status":"SUCCESS"}', 'D5 slave C calls verifySettings with its per-slave key');
        expect_body(ips_call('POST', ['do' => 'fetchSalt', 'key' => key_for($pk, $C['email']), 'idType' => '2', 'id' => $C['email']]), php_json(['status' => 'SUCCESS', 'pass_salt' => $C['salt']]), 'D5 fetchSalt with md5(per-slave key . id)');
        expect_body(ips_call('GET', ['do' => 'checkEmail', 'key' => $pk, 'email' => $C['email']]), '{"status":"SUCCESS","used":1}', 'D5 checkEmail with the raw per-slave key');
        expect_body(ips_call('GET', ['do' => 'checkEmail', 'key' => $pk . 'x', 'email' => $C['email']]), '{"status":"BAD_KEY"}', 'D5 a wrong per-slave key → BAD_KEY');
        $newName = "perslave-renamed-$RUN";
        // url names slave A, but the key identifies slave C: C is the originator, A and B both receive it
        expect_body(ips_call('GET', ['do' => 'changeName', 'key' => key_for($pk, (string) $C['id']), 'url' => $SA, 'name' => $newName, 'id' => (string) $C['id']]), '{"status":"SUCCESS"}', 'D5 changeName with the per-slave key while url claims to be slave A');
        expect_propagation('changeName', ['id' => (string) $C['id'], 'name' => $newName], null, 'D5 the per-slave key identifies slave C (not A) as the caller: A and B both');
        expect_body(ips_call('GET', ['do' => 'disableSlave', 'key' => $pk, 'url' => $SC]), '{"status":"SUCCESS"}', 'D5 slave C disables itself with its per-slave key');
        $c = admin_slave($SC);
        ok(($c['enabled'] ?? null) === false, 'D5 slave C is disabled in the admin list', show($c));
    }
} else {
    Tap::skip('D5 per-slave master keys', 'IPS_ADMIN_URL not set');
}

// ================================================================================================
Tap::section('§8.9 delete 43 (last: Bob is needed by the checks above)');
// ================================================================================================
expect_body(ips_raw('GET', 'do=delete&key=cb5da35a2b8d4580af776ebbfe222281&url=' . $SA . '&id=43'), '{"status":"SUCCESS"}', '§8.9 delete 43');
expect_propagation('delete', ['id' => '43'], 'A', '§8.9 delete propagated');
expect_body(fetch_salt('2', 'bob@example.test'), '{"status":"ACCOUNT_NOT_FOUND"}', '§2.10 Bob is gone (fetchSalt → ACCOUNT_NOT_FOUND)');
expect_body(ips_call('POST', login_params('2', 'bob@example.test', BOB_HASH)), '{"status":"ACCOUNT_NOT_FOUND"}', '§2.10 Bob is gone (login → ACCOUNT_NOT_FOUND)');
both(['do' => 'checkName', 'key' => $MK, 'name' => 'Bob'], '{"status":"SUCCESS","used":0}', '§2.10 Bob\'s name is free again');

// ================================================================================================
$propagationSeen = check_deliveries();
// ================================================================================================

// ================================================================================================
Tap::section('§8.10 disableSlave, DISABLED answers, retries (D15) — needs working propagation');
// ================================================================================================
$canPropagate = Conf::$propagation !== 'skip' && $propagationSeen;
$Q = plain_account('failures');
must_register($Q, 'account Q for the failure-handling checks registered', 'GET', 'A');
$qid = (string) $Q['id'];

/** Wait for a delivery matching $subset at slave $s (index ≥ $from); returns the entries. */
$waitFor = function (string $s, array $subset, int $from, int $n = 1, ?float $timeout = null) use ($LOGS): array {
    $deadline = microtime(true) + ($timeout ?? Conf::$deliveryTimeout);
    do {
        $hits = array_values(array_filter($LOGS[$s]->since($from), fn ($x) => subset_match(entry_params($x), array_map('strval', $subset))));
        if (count($hits) >= $n) {
            return $hits;
        }
        usleep(200_000);
    } while (microtime(true) < $deadline);
    return $hits;
};

expect_body(ips_call('GET', ['do' => 'disableSlave', 'key' => $MK, 'url' => $SB]), '{"status":"SUCCESS"}', '§8.10 disableSlave slave B');
both(['do' => 'disableSlave', 'key' => $MK, 'url' => 'http://127.0.0.1:9/not-a-slave'], '{"status":"SUCCESS"}', '§2.2 disableSlave of an unknown url → SUCCESS');
both(['do' => 'disableSlave', 'key' => 'wrong', 'url' => $SA], '{"status":"BAD_KEY"}', '§2.2 disableSlave with a wrong key → BAD_KEY');
if (admin_available()) {
    ok((admin_slave($SB)['enabled'] ?? null) === false, '§2.2 slave B is disabled in the admin list', show(admin_slave($SB)));
    ok((admin_slave($SA)['enabled'] ?? null) === true, '§2.2 slave A is still enabled', show(admin_slave($SA)));
}
if ($canPropagate) {
    $fromA = $LOGS['A']->count();
    $fromB = $LOGS['B']->count();
    $n1 = "while-b-disabled-$RUN";
    expect_status(id_action('changeName', $qid, ['name' => $n1]), 'SUCCESS', 'changeName (no url) while B is disabled');
    $hitsA = $waitFor('A', ['do' => 'changeName', 'id' => $qid, 'name' => $n1], $fromA);
    prop_ok(count($hitsA) === 1, '§8.10 slave A (enabled) receives the change', show($hitsA));
    usleep(1_000_000);
    $hitsB = array_filter($LOGS['B']->since($fromB), fn ($x) => subset_match(entry_params($x), ['do' => 'changeName', 'id' => $qid]));
    prop_ok(count($hitsB) === 0, '§8.10 disabled slave B receives nothing', show(array_values($hitsB)));
    expect_body(ips_call('GET', ['do' => 'verifySettings', 'key' => $MK, 'url' => $SB, 'ourKey' => $SKB]), '{"status":"SUCCESS"}', '§2.2 slave B re-enables itself with verifySettings');
    $n2 = "after-b-enabled-$RUN";
    expect_status(id_action('changeName', $qid, ['name' => $n2], $SA), 'SUCCESS', 'changeName from A after B is back');
    $hitsB = $waitFor('B', ['do' => 'changeName', 'id' => $qid, 'name' => $n2], $fromB);
    prop_ok(count($hitsB) === 1, '§2.2 re-enabled slave B receives new changes again', show($hitsB));
    $old = array_filter($LOGS['B']->since($fromB), fn ($x) => subset_match(entry_params($x), ['do' => 'changeName', 'name' => $n1]));
    prop_ok(count($old) === 0, 'D15 the change made while B was disabled is never delivered to B (one delivery per enabled target)', show(array_values($old)));

    // A propagation target answering DISABLED gets disabled
    $fromB = $LOGS['B']->count();
    $n3 = "b-says-disabled-$RUN";
    write_control(Conf::$ctlB, ['status' => 'DISABLED', 'remaining' => 1, 'match' => ['do' => 'changeName', 'name' => $n3]]);
    expect_status(id_action('changeName', $qid, ['name' => $n3], $SA), 'SUCCESS', 'changeName while B will answer {"status":"DISABLED"}');
    $hitsB = $waitFor('B', ['do' => 'changeName', 'id' => $qid, 'name' => $n3], $fromB);
    prop_ok(count($hitsB) >= 1 && ($hitsB[0]['response_body'] ?? '') === '{"status":"DISABLED"}', '§8.10 slave B received the change and answered DISABLED', show($hitsB));
    if (admin_available()) {
        $deadline = microtime(true) + 10;
        do {
            $en = admin_slave($SB)['enabled'] ?? null;
            if ($en === false) {
                break;
            }
            usleep(250_000);
        } while (microtime(true) < $deadline);
        prop_ok($en === false, '§8.10/D15 a slave answering DISABLED is marked disabled', show(admin_slave($SB)));
    }
    write_control(Conf::$ctlB, null);
    expect_body(ips_call('GET', ['do' => 'verifySettings', 'key' => $MK, 'url' => $SB, 'ourKey' => $SKB]), '{"status":"SUCCESS"}', 'slave B re-registers');
    usleep(500_000);

    // failures that must be retried: HTTP 500 page, BAD_KEY, non-JSON 200
    foreach ([
        'an HTTP 500 page' => ['http' => 500, 'body' => '<html><body>500 Internal Server Error</body></html>', 'remaining' => 1],
        '{"status":"BAD_KEY"}' => ['status' => 'BAD_KEY', 'remaining' => 1],
        'a non-JSON 200 body' => ['http' => 200, 'body' => 'Fatal error: something broke', 'remaining' => 1],
    ] as $what => $ctl) {
        $fromB = $LOGS['B']->count();
        $n = 'retry-' . rnd(6);
        write_control(Conf::$ctlB, $ctl + ['match' => ['do' => 'changeName', 'name' => $n]]);
        expect_status(id_action('changeName', $qid, ['name' => $n], $SA), 'SUCCESS', "changeName while B will first answer $what");
        $hits = $waitFor('B', ['do' => 'changeName', 'id' => $qid, 'name' => $n], $fromB, 2, 25);
        $gap = count($hits) >= 2 ? round($hits[1]['t'] - $hits[0]['t'], 1) : null;
        prop_ok(count($hits) >= 2 && ($hits[count($hits) - 1]['response_body'] ?? '') === '{"status":"SUCCESS"}', "§8.10/D15 after $what the delivery is retried until SUCCESS (retry after {$gap}s)", array_map(fn ($x) => show(['t' => $x['t'], 'response' => $x['response'], 'body' => $x['response_body'] ?? '']), $hits));
        write_control(Conf::$ctlB, null);
    }
    if (admin_available()) {
        ok((admin_slave($SB)['enabled'] ?? null) === true, 'slave B is enabled at the end', show(admin_slave($SB)));
    }
} else {
    Tap::diag('No delivery was observed at all: skipping the checks that need propagation to work.');
    prop_ok(false, '§8.10 disabled slave B receives nothing / DISABLED answer disables / retries (need propagation)');
    expect_body(ips_call('GET', ['do' => 'verifySettings', 'key' => $MK, 'url' => $SB, 'ourKey' => $SKB]), '{"status":"SUCCESS"}', 'slave B re-enables itself with verifySettings');
}

Tap::finish();
