<?php
declare(strict_types=1);

/**
 * IPS Connect v2 conformance harness — shared helpers.
 *
 * Written from ../../../shared/spec/ips-connect.md only (not from the server's code), the way real
 * IPS 4.1/4.2 slaves and plain-PHP third-party clients talk to a master: PHP's own md5(), crypt(),
 * json_decode() and curl. No composer, PHP 8.2 + php-curl.
 *
 * Configuration comes from environment variables (see README.md next to this file).
 */

if (!function_exists('curl_init')) {
    fwrite(STDERR, "php-curl is missing: apt-get install -y php-cli php-curl\n");
    exit(2);
}

// ---------------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------------

function env(string $name, ?string $default = null): string
{
    $v = getenv($name);
    if ($v === false || $v === '') {
        if ($default === null) {
            fwrite(STDERR, "missing environment variable $name (see conformance/ips/README.md)\n");
            exit(2);
        }
        return $default;
    }
    return $v;
}

final class Conf
{
    public static string $mu;        // master gateway URL
    public static string $mk;        // master key
    public static string $sa;        // slave A gateway URL
    public static string $ska;       // slave A key
    public static string $sb;
    public static string $skb;
    public static string $logA;
    public static string $logB;
    public static string $ctlA;
    public static string $ctlB;
    public static string $admin;     // admin API base URL ('' if not available)
    public static string $adminToken;
    public static string $propagation; // require | todo | skip
    public static float $deliveryTimeout;

    public static function load(): void
    {
        self::$mu = env('IPS_MASTER_URL');
        self::$mk = env('IPS_MASTER_KEY', '0123456789abcdef0123456789abcdef');
        self::$sa = env('IPS_SLAVE_A_URL');
        self::$ska = env('IPS_SLAVE_A_KEY', 'fedcba9876543210fedcba9876543210');
        self::$sb = env('IPS_SLAVE_B_URL');
        self::$skb = env('IPS_SLAVE_B_KEY', '00112233445566778899aabbccddeeff');
        self::$logA = env('IPS_SLAVE_A_LOG');
        self::$logB = env('IPS_SLAVE_B_LOG');
        self::$ctlA = env('IPS_SLAVE_A_CONTROL', self::$logA . '.control');
        self::$ctlB = env('IPS_SLAVE_B_CONTROL', self::$logB . '.control');
        self::$admin = rtrim(env('IPS_ADMIN_URL', ''), '/');
        self::$adminToken = env('IPS_ADMIN_TOKEN', '');
        self::$propagation = env('IPS_PROPAGATION', 'require');
        if (!in_array(self::$propagation, ['require', 'todo', 'skip'], true)) {
            fwrite(STDERR, "IPS_PROPAGATION must be require, todo or skip\n");
            exit(2);
        }
        self::$deliveryTimeout = (float) env('IPS_DELIVERY_TIMEOUT', '20');
    }
}

// ---------------------------------------------------------------------------------------------
// TAP reporter
// ---------------------------------------------------------------------------------------------

final class Tap
{
    public static int $n = 0;
    public static int $failed = 0;
    public static int $todoFailed = 0;
    public static int $skipped = 0;
    /** @var list<string> */
    public static array $failures = [];

    public static function section(string $title): void
    {
        echo "# ---- $title\n";
    }

    public static function diag(string $msg): void
    {
        foreach (explode("\n", $msg) as $line) {
            echo '#   ' . $line . "\n";
        }
    }

    /** @param list<string>|string $diag */
    public static function ok(bool $cond, string $desc, array|string $diag = [], ?string $todo = null): bool
    {
        self::$n++;
        $desc = str_replace(["\n", '#'], [' ', '\\#'], $desc);
        $suffix = $todo !== null ? " # TODO $todo" : '';
        if ($cond) {
            echo 'ok ' . self::$n . " - $desc$suffix\n";
        } else {
            echo 'not ok ' . self::$n . " - $desc$suffix\n";
            if ($todo === null) {
                self::$failed++;
                self::$failures[] = self::$n . " - $desc";
            } else {
                self::$todoFailed++;
            }
            foreach ((array) $diag as $d) {
                self::diag($d);
            }
        }
        return $cond;
    }

    public static function skip(string $desc, string $why): void
    {
        self::$n++;
        self::$skipped++;
        echo 'ok ' . self::$n . " - $desc # SKIP $why\n";
    }

    public static function finish(): never
    {
        echo '1..' . self::$n . "\n";
        $passed = self::$n - self::$failed - self::$todoFailed - self::$skipped;
        echo "# $passed passed, " . self::$failed . ' failed, ' . self::$todoFailed . ' todo-failed, ' . self::$skipped . " skipped\n";
        if (self::$failed > 0) {
            echo "# FAILED:\n";
            foreach (self::$failures as $f) {
                echo "#   $f\n";
            }
        }
        exit(self::$failed > 0 ? 1 : 0);
    }
}

function ok(bool $cond, string $desc, array|string $diag = []): bool
{
    return Tap::ok($cond, $desc, $diag);
}

function is(mixed $got, mixed $expected, string $desc): bool
{
    return Tap::ok($got === $expected, $desc, ['expected: ' . show($expected), 'got:      ' . show($got)]);
}

function show(mixed $v): string
{
    if (is_string($v)) {
        return strlen($v) > 600 ? var_export(substr($v, 0, 600), true) . '…' : var_export($v, true);
    }
    return json_encode($v, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_PARTIAL_OUTPUT_ON_ERROR) ?: var_export($v, true);
}

// ---------------------------------------------------------------------------------------------
// Crypto the way IPS slaves compute it
// ---------------------------------------------------------------------------------------------

/** md5(K . id): the key for id-actions (and the per-slave key of hops / propagated calls). */
function key_for(string $secret, string $id): string
{
    return md5($secret . $id);
}

/** crypt(plain, '$2a$13$' . salt) — IPS 4.0-4.2 native hash for 22-char salts. */
function ips_bcrypt(string $plain, string $salt): string
{
    return crypt($plain, '$2a$13$' . $salt);
}

/** IPB3 input escaping, §3.2, in this order. */
function legacy_escape(string $plain): string
{
    $s = str_replace('&', '&amp;', $plain);
    $s = str_replace('<!--', '&#60;&#33;--', $s);
    $s = str_replace('-->', '--&#62;', $s);
    $s = str_ireplace('<script', '&#60;script', $s);
    $s = str_replace('>', '&gt;', $s);
    $s = str_replace('<', '&lt;', $s);
    $s = str_replace('"', '&quot;', $s);
    $s = str_replace("\n", '<br />', $s);
    $s = str_replace('$', '&#036;', $s);
    $s = str_replace('!', '&#33;', $s);
    $s = str_replace("'", '&#39;', $s);
    $s = str_replace('\\', '&#092;', $s);
    return $s;
}

function legacy_hash(string $plain, string $salt): string
{
    return md5(md5($salt) . md5(legacy_escape($plain)));
}

/** What an IPS slave sends as `password` / `pass_hash` for a given salt (§3.2). */
function slave_hash(string $plain, string $salt): string
{
    return strlen($salt) === 22 ? ips_bcrypt($plain, $salt) : legacy_hash($plain, $salt);
}

/** IPS generateSalt(): 22 chars of [0-9A-Za-z] (CSPRNG here). */
function gen_salt(int $len = 22): string
{
    $alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
    $s = '';
    for ($i = 0; $i < $len; $i++) {
        $s .= $alphabet[random_int(0, 61)];
    }
    return $s;
}

/** A syntactically valid `$2a$13$` hash that matches no password we ever set (cheap wrong password). */
function fake_bcrypt(string $salt): string
{
    $alphabet = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
    $h = '';
    for ($i = 0; $i < 31; $i++) {
        $h .= $alphabet[random_int(0, 63)];
    }
    return '$2a$13$' . substr($salt, 0, 21) . 'e' . $h;
}

function rnd(int $len = 8): string
{
    return substr(bin2hex(random_bytes($len)), 0, $len);
}

// ---------------------------------------------------------------------------------------------
// Encoding and HTTP
// ---------------------------------------------------------------------------------------------

/**
 * IPS's outgoing URL encoding (§1.3): percent-encode everything except
 * A-Za-z0-9-._~!$'()*,;=:@/?[] ; '+' always becomes %2B, space %20.
 */
function ips_encode(string $v): string
{
    $enc = rawurlencode($v); // leaves A-Za-z0-9-_.~
    return strtr($enc, [
        '%21' => '!', '%24' => '$', '%27' => "'", '%28' => '(', '%29' => ')', '%2A' => '*',
        '%2C' => ',', '%3B' => ';', '%3D' => '=', '%3A' => ':', '%40' => '@', '%2F' => '/',
        '%3F' => '?', '%5B' => '[', '%5D' => ']',
    ]);
}

/**
 * Build a query string from ordered name/value pairs. Pairs are [name, value] so names can repeat;
 * an associative array is accepted too. A null value emits nothing for that name.
 *
 * @param array<int|string, mixed> $params
 */
function ips_query(array $params): string
{
    $parts = [];
    foreach (pairs($params) as [$k, $v]) {
        if ($v === null) {
            continue;
        }
        $parts[] = ips_encode((string) $k) . '=' . ips_encode((string) $v);
    }
    return implode('&', $parts);
}

/** @return list<array{0:string,1:mixed}> */
function pairs(array $params): array
{
    $out = [];
    foreach ($params as $k => $v) {
        if (is_int($k) && is_array($v) && count($v) === 2 && array_is_list($v)) {
            $out[] = [(string) $v[0], $v[1]];
        } else {
            $out[] = [(string) $k, $v];
        }
    }
    return $out;
}

/** Query-string merge the way IPS slaves append parameters to a configured URL. */
function url_with(string $base, string $query): string
{
    if ($query === '') {
        return $base;
    }
    return $base . (str_contains($base, '?') ? '&' : '?') . $query;
}

final class Resp
{
    public function __construct(
        public int $status,
        /** @var list<array{0:string,1:string}> lowercased name, value */
        public array $headers,
        public string $body,
        public string $url,
        public ?string $error = null,
    ) {
    }

    public function header(string $name): ?string
    {
        $name = strtolower($name);
        foreach ($this->headers as [$k, $v]) {
            if ($k === $name) {
                return $v;
            }
        }
        return null;
    }

    /** @return list<string> */
    public function headersNamed(string $name): array
    {
        $name = strtolower($name);
        $out = [];
        foreach ($this->headers as [$k, $v]) {
            if ($k === $name) {
                $out[] = $v;
            }
        }
        return $out;
    }

    /** Decoded JSON the way IPS slaves do it: json_decode($body, true). */
    public function json(): mixed
    {
        return json_decode($this->body, true);
    }

    public function describe(): string
    {
        return "HTTP {$this->status} " . ($this->error ? "[curl: {$this->error}] " : '') . show($this->body);
    }
}

/**
 * One HTTP request with curl, never following redirects.
 *
 * @param array<string,string> $headers
 */
function http_request(string $method, string $url, ?string $body = null, array $headers = [], float $timeout = 30): Resp
{
    $ch = curl_init();
    $hdrs = [];
    curl_setopt_array($ch, [
        CURLOPT_URL => $url,
        CURLOPT_RETURNTRANSFER => true,
        CURLOPT_FOLLOWLOCATION => false,
        CURLOPT_TIMEOUT_MS => (int) ($timeout * 1000),
        CURLOPT_CONNECTTIMEOUT_MS => 5000,
        CURLOPT_CUSTOMREQUEST => $method,
        CURLOPT_HEADERFUNCTION => function ($ch, string $line) use (&$hdrs): int {
            $len = strlen($line);
            $line = rtrim($line, "\r\n");
            if (preg_match('#^HTTP/\S+\s+\d+#', $line)) {
                $hdrs = []; // a new response (e.g. after 100-continue)
            } elseif (str_contains($line, ':')) {
                [$k, $v] = explode(':', $line, 2);
                $hdrs[] = [strtolower(trim($k)), trim($v)];
            }
            return $len;
        },
    ]);
    $h = ['Expect:'];
    foreach ($headers as $k => $v) {
        $h[] = "$k: $v";
    }
    if ($body !== null) {
        curl_setopt($ch, CURLOPT_POSTFIELDS, $body);
    }
    curl_setopt($ch, CURLOPT_HTTPHEADER, $h);
    $out = curl_exec($ch);
    $err = $out === false ? curl_error($ch) : null;
    $status = (int) curl_getinfo($ch, CURLINFO_RESPONSE_CODE);
    curl_close($ch);
    return new Resp($status, $hdrs, $out === false ? '' : (string) $out, $url, $err);
}

/**
 * Call the master gateway the way a slave does.
 *   GET : parameters appended to the gateway URL (IPS slaves)
 *   POST: application/x-www-form-urlencoded body, no query string (third-party clients)
 *
 * @param array<int|string,mixed> $params
 */
function ips_call(string $method, array $params, ?string $base = null): Resp
{
    $base ??= Conf::$mu;
    $q = ips_query($params);
    return ips_raw($method, $q, $base);
}

/** Same with an already-encoded parameter string. */
function ips_raw(string $method, string $encoded, ?string $base = null): Resp
{
    $base ??= Conf::$mu;
    if ($method === 'GET') {
        return http_request('GET', url_with($base, $encoded));
    }
    return http_request('POST', $base, $encoded, ['Content-Type' => 'application/x-www-form-urlencoded']);
}

/** Assert a JSON protocol answer byte for byte: HTTP 200, application/json, exact body. */
function expect_body(Resp $r, string $expected, string $desc): bool
{
    $ct = (string) $r->header('content-type');
    $good = $r->status === 200 && str_starts_with(strtolower($ct), 'application/json') && $r->body === $expected;
    return Tap::ok($good, $desc, [
        'request:  ' . $r->url,
        'expected: HTTP 200 application/json ' . $expected,
        'got:      HTTP ' . $r->status . ' ' . ($ct ?: '(no content-type)') . ' ' . ($r->error ? "[curl: {$r->error}] " : '') . show($r->body),
    ]);
}

/** Expected body as PHP's json_encode() writes it (D3): escaped slashes and \uXXXX. */
function php_json(array $obj): string
{
    return json_encode($obj, JSON_THROW_ON_ERROR);
}

/** Status-only shorthand: {"status":"X"} exactly. */
function expect_status(Resp $r, string $status, string $desc): bool
{
    return expect_body($r, '{"status":"' . $status . '"}', $desc);
}

// ---------------------------------------------------------------------------------------------
// Admin API
// ---------------------------------------------------------------------------------------------

function admin_available(): bool
{
    return Conf::$admin !== '' && Conf::$adminToken !== '';
}

function admin(string $method, string $path, ?array $json = null): Resp
{
    $headers = ['Authorization' => 'Bearer ' . Conf::$adminToken];
    $body = null;
    if ($json !== null) {
        $headers['Content-Type'] = 'application/json';
        $body = json_encode($json, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_THROW_ON_ERROR);
    } elseif ($method === 'POST') {
        $headers['Content-Type'] = 'application/json';
        $body = '{}';
    }
    return http_request($method, Conf::$admin . $path, $body, $headers);
}

// ---------------------------------------------------------------------------------------------
// Fake-slave logs (JSON lines written by fake-slave.php)
// ---------------------------------------------------------------------------------------------

final class SlaveLog
{
    public function __construct(public string $name, public string $path)
    {
    }

    /** @return list<array<string,mixed>> every request the slave received so far */
    public function entries(): array
    {
        clearstatcache(true, $this->path);
        if (!is_file($this->path)) {
            return [];
        }
        $out = [];
        foreach (file($this->path, FILE_IGNORE_NEW_LINES | FILE_SKIP_EMPTY_LINES) ?: [] as $line) {
            $e = json_decode($line, true);
            if (is_array($e)) {
                $out[] = $e;
            }
        }
        return $out;
    }

    public function count(): int
    {
        return count($this->entries());
    }

    /** @return list<array<string,mixed>> entries from index $from on */
    public function since(int $from): array
    {
        return array_slice($this->entries(), $from);
    }
}

/** The master→slave parameters of a logged request (GET then POST overriding, like IPS). */
function entry_params(array $e): array
{
    return is_array($e['params'] ?? null) ? $e['params'] : [];
}

/** Does a logged request carry exactly these parameters (no more, no fewer, values identical)? */
function params_equal(array $got, array $expected): bool
{
    if (count($got) !== count($expected)) {
        return false;
    }
    foreach ($expected as $k => $v) {
        if (!array_key_exists($k, $got) || $got[$k] !== (string) $v) {
            return false;
        }
    }
    return true;
}

function write_control(string $path, ?array $ctl): void
{
    if ($ctl === null) {
        @unlink($path);
        return;
    }
    file_put_contents($path, json_encode($ctl), LOCK_EX);
}

// ---------------------------------------------------------------------------------------------
// Cookies (one jar per site: scheme://host:port — browsers share cookies across ports, we don't,
// so each site's cookies are asserted independently)
// ---------------------------------------------------------------------------------------------

function origin_of(string $url): string
{
    $p = parse_url($url);
    $scheme = strtolower($p['scheme'] ?? '');
    $host = strtolower($p['host'] ?? '');
    $port = $p['port'] ?? ($scheme === 'https' ? 443 : 80);
    return "$scheme://$host:$port";
}

/**
 * Parse one Set-Cookie header value.
 * @return array{name:string,value:string,attrs:array<string,string|true>,cleared:bool}
 */
function parse_set_cookie(string $h): array
{
    $parts = array_map('trim', explode(';', $h));
    $nv = array_shift($parts);
    [$name, $value] = array_pad(explode('=', (string) $nv, 2), 2, '');
    $attrs = [];
    foreach ($parts as $p) {
        if ($p === '') {
            continue;
        }
        [$k, $v] = array_pad(explode('=', $p, 2), 2, true);
        $attrs[strtolower(trim($k))] = is_string($v) ? trim($v) : true;
    }
    $cleared = $value === '' || $value === '""';
    if (isset($attrs['max-age']) && is_string($attrs['max-age']) && (int) $attrs['max-age'] <= 0) {
        $cleared = true;
    }
    if (isset($attrs['expires']) && is_string($attrs['expires'])) {
        $t = strtotime($attrs['expires']);
        if ($t !== false && $t <= time()) {
            $cleared = true;
        }
    }
    return ['name' => trim($name), 'value' => $value, 'attrs' => $attrs, 'cleared' => $cleared];
}

final class Browser
{
    /** @var array<string, array<string,string>> origin => name => value */
    public array $jars = [];
    /** @var list<array{method:string,url:string,status:int,location:?string,set_cookies:list<array>}> */
    public array $history = [];

    public function get(string $url): Resp
    {
        $origin = origin_of($url);
        $cookie = [];
        foreach ($this->jars[$origin] ?? [] as $k => $v) {
            $cookie[] = "$k=$v";
        }
        $headers = ['User-Agent' => 'ips-conformance-walker/1.0', 'Accept' => 'text/html,*/*'];
        if ($cookie) {
            $headers['Cookie'] = implode('; ', $cookie);
        }
        $r = http_request('GET', $url, null, $headers);
        $sets = [];
        foreach ($r->headersNamed('set-cookie') as $h) {
            $c = parse_set_cookie($h);
            $sets[] = $c;
            if ($c['cleared']) {
                unset($this->jars[$origin][$c['name']]);
            } else {
                $this->jars[$origin][$c['name']] = $c['value'];
            }
        }
        $this->history[] = ['method' => 'GET', 'url' => $url, 'status' => $r->status, 'location' => $r->header('location'), 'set_cookies' => $sets];
        return $r;
    }

    /** @return array<string,string> */
    public function jar(string $url): array
    {
        return $this->jars[origin_of($url)] ?? [];
    }
}

/** Split a query string into ordered [name, value] pairs (PHP decoding: '+' is a space). */
function query_pairs(string $q): array
{
    $out = [];
    if ($q === '') {
        return $out;
    }
    foreach (explode('&', $q) as $part) {
        if ($part === '') {
            continue;
        }
        [$k, $v] = array_pad(explode('=', $part, 2), 2, '');
        $out[] = [urldecode($k), urldecode($v)];
    }
    return $out;
}

/** Resolve a Location header against the URL that produced it. */
function resolve_url(string $base, string $loc): string
{
    if (preg_match('#^[a-z][a-z0-9+.-]*://#i', $loc)) {
        return $loc;
    }
    $p = parse_url($base);
    $root = $p['scheme'] . '://' . $p['host'] . (isset($p['port']) ? ':' . $p['port'] : '');
    if (str_starts_with($loc, '//')) {
        return $p['scheme'] . ':' . $loc;
    }
    if (str_starts_with($loc, '/')) {
        return $root . $loc;
    }
    $dir = preg_replace('#/[^/]*$#', '/', $p['path'] ?? '/');
    return $root . $dir . $loc;
}

function strip_query(string $url): string
{
    $i = strpos($url, '?');
    return $i === false ? $url : substr($url, 0, $i);
}
