<?php
// An independent client of Switchboard's application API, written from the spec
// (shared/spec/application-api.md §1–§5) the way ipernity's kits behave, sharing no code with the
// server: GET for read methods, a POST form for the others, every call signed (order B:
// md5(sorted name.value pairs . method . secret)), JSON scalars read as strings, XML with SimpleXML.
// It runs the desktop flow and the web flow end to end, driving the consent form over HTTP.
// Environment: API_BASE (…/api), AUTHORIZE_URL (…/apps/authorize), DESKTOP_KEY/DESKTOP_SECRET,
// WEB_KEY/WEB_SECRET, WEB_CALLBACK, LOGIN, PASSWORD, NEW_EMAIL_PREFIX. Prints TAP; exit 1 on failure.

$env = fn(string $k) => getenv($k) === false ? die("missing $k\n") : getenv($k);
$n = 0;
$failed = 0;
function check(bool $ok, string $what, string $diag = ''): void {
    global $n, $failed;
    $n++;
    if (!$ok) $failed++;
    echo ($ok ? 'ok' : 'not ok') . " $n - $what\n";
    if (!$ok && $diag !== '') echo '# ' . str_replace("\n", "\n# ", $diag) . "\n";
}

function sign(array $params, string $method, string $secret): string {
    ksort($params, SORT_STRING);
    $p = '';
    foreach ($params as $k => $v) $p .= $k . $v;
    return md5($p . $method . $secret);
}

/** Calls a method; returns [decoded array (json) or SimpleXMLElement (xml), raw body]. */
function call(string $base, string $key, string $secret, string $method, array $params, string $format, bool $post = false): array {
    $params['api_key'] = $key;
    $params['api_sig'] = sign($params, $method, $secret);
    $url = "$base/$method/$format";
    $ch = curl_init();
    if ($post) {
        curl_setopt($ch, CURLOPT_URL, $url);
        curl_setopt($ch, CURLOPT_POST, true);
        curl_setopt($ch, CURLOPT_POSTFIELDS, http_build_query($params));
    } else {
        curl_setopt($ch, CURLOPT_URL, $url . '?' . http_build_query($params));
    }
    curl_setopt($ch, CURLOPT_RETURNTRANSFER, true);
    $body = curl_exec($ch);
    curl_close($ch);
    return [$format === 'xml' ? simplexml_load_string($body) : json_decode($body, true), (string) $body];
}

/** A browser without JavaScript: cookie jar, no automatic redirects. */
class Browser {
    private string $jar;
    function __construct() { $this->jar = tempnam(sys_get_temp_dir(), 'jar'); }
    function __destruct() { @unlink($this->jar); }
    function go(string $url, ?array $post = null): array {
        $ch = curl_init($url);
        curl_setopt_array($ch, [CURLOPT_RETURNTRANSFER => true, CURLOPT_HEADER => true, CURLOPT_FOLLOWLOCATION => false,
            CURLOPT_COOKIEJAR => $this->jar, CURLOPT_COOKIEFILE => $this->jar]);
        if ($post !== null) {
            curl_setopt($ch, CURLOPT_POST, true);
            curl_setopt($ch, CURLOPT_POSTFIELDS, http_build_query($post));
        }
        $raw = curl_exec($ch);
        $status = curl_getinfo($ch, CURLINFO_RESPONSE_CODE);
        $size = curl_getinfo($ch, CURLINFO_HEADER_SIZE);
        curl_close($ch);
        $headers = substr($raw, 0, $size);
        preg_match('/^location:\s*(\S+)/mi', $headers, $m);
        return ['status' => $status, 'location' => $m[1] ?? null, 'html' => substr($raw, $size)];
    }
    /** The hidden inputs of <form name="fa"> (the consent page's contract, spec §2.2). */
    static function form(string $html): array {
        if (!preg_match('/<form name="fa".*?<\/form>/s', $html, $f)) return [];
        preg_match_all('/<input type="hidden" name="([^"]*)" value="([^"]*)">/', $f[0], $m, PREG_SET_ORDER);
        $out = [];
        foreach ($m as $i) $out[html_entity_decode($i[1], ENT_QUOTES)] = html_entity_decode($i[2], ENT_QUOTES);
        return $out;
    }
}

function authorize(string $url, string $login, string $password): array {
    $b = new Browser();
    $page = $b->go($url);
    check($page['status'] === 200 && str_contains($page['html'], '<form name="fa"'), 'the authorization link shows a form named fa');
    $page = $b->go($url, Browser::form($page['html']) + ['action' => 'login', 'login' => $login, 'password' => $password]);
    check(str_contains($page['html'], 'value="approve"'), 'after signing in the consent form offers Approve');
    return $b->go($url, Browser::form($page['html']) + ['action' => 'approve']);
}

$base = rtrim($env('API_BASE'), '/');
$authorizeUrl = $env('AUTHORIZE_URL');
$login = $env('LOGIN');
$password = $env('PASSWORD');

foreach (['json', 'xml'] as $format) {
    // ---- desktop flow (§2.4) ----
    $dk = $env('DESKTOP_KEY');
    $ds = $env('DESKTOP_SECRET');
    [$r, $raw] = call($base, $dk, $ds, 'auth.getFrob', [], $format);
    $frob = $format === 'json' ? ($r['auth']['frob'] ?? null) : (string) ($r->auth->frob ?? '');
    check(is_string($frob) && preg_match('/^\d+-[0-9a-f]+$/', $frob) === 1, "[$format] desktop: auth.getFrob gives a frob", $raw);
    $link = ['api_key' => $dk, 'frob' => $frob, 'perm_profile' => 'write', 'perm_network' => 'read'];
    $link['api_sig'] = sign($link, '', $ds);
    $done = authorize($authorizeUrl . '?' . http_build_query($link), $login, $password);
    check(str_contains($done['html'], '<div class="ok">'), "[$format] desktop: approval page contains <div class=\"ok\">");
    [$r, $raw] = call($base, $dk, $ds, 'auth.getToken', ['frob' => $frob], $format);
    if ($format === 'json') {
        $token = $r['auth']['token'] ?? null;
        check(($r['api']['status'] ?? '') === 'ok' && is_string($token), "[$format] desktop: auth.getToken", $raw);
        check(($r['auth']['permissions']['profile'] ?? '') === 'write' && ($r['auth']['permissions']['doc'] ?? '') === 'none', "[$format] permissions reported per area, none included", $raw);
        check(is_string($r['auth']['user']['user_id'] ?? null) && ($r['auth']['user']['is_pro'] ?? null) === '0', "[$format] user fields are strings", $raw);
    } else {
        $token = (string) ($r->auth->token ?? '');
        check((string) $r['status'] === 'ok' && $token !== '', "[$format] desktop: auth.getToken", $raw);
        check((string) $r->auth->permissions['profile'] === 'write' && (string) $r->auth->permissions['doc'] === 'none', "[$format] permissions attributes", $raw);
    }
    [$r, $raw] = call($base, $dk, $ds, 'auth.checkToken', ['auth_token' => $token], $format);
    $checked = $format === 'json' ? ($r['auth']['token'] ?? '') : (string) $r->auth->token;
    check($checked === $token, "[$format] auth.checkToken returns the token", $raw);
    [$r, $raw] = call($base, $dk, $ds, 'account.get', ['auth_token' => $token], $format);
    $name = $format === 'json' ? ($r['user']['username'] ?? '') : (string) $r->user['username'];
    check($name !== '', "[$format] account.get", $raw);
    $email = $env('NEW_EMAIL_PREFIX') . "-$format@example.test";
    [$r, $raw] = call($base, $dk, $ds, 'account.setEmail', ['auth_token' => $token, 'email' => $email], $format, true);
    $got = $format === 'json' ? ($r['user']['email'] ?? '') : (string) $r->user['email'];
    check($got === $email, "[$format] account.setEmail (POST) changes the e-mail", $raw);
    [$r, $raw] = call($base, $dk, $ds, 'account.setEmail', ['auth_token' => $token, 'email' => $email], $format);
    $code = $format === 'json' ? ($r['api']['code'] ?? null) : (string) $r['code'];
    check($code === '120', "[$format] account.setEmail with GET answers 120 (code as a string)", $raw);
    [$r, $raw] = call($base, $dk, $ds . 'x', 'test.echo', ['echo' => 'x'], $format);
    $code = $format === 'json' ? ($r['api']['code'] ?? null) : (string) $r['code'];
    check($code === '105', "[$format] a wrong secret gives 105", $raw);

    // ---- web flow (§2.3) ----
    $wk = $env('WEB_KEY');
    $ws = $env('WEB_SECRET');
    $link = ['api_key' => $wk, 'perm_profile' => 'read'];
    $link['api_sig'] = sign($link, '', $ws);
    $done = authorize($authorizeUrl . '?' . http_build_query($link), $login, $password);
    check($done['status'] === 302 && str_starts_with((string) $done['location'], $env('WEB_CALLBACK')), "[$format] web: 302 to the callback", print_r($done, true));
    parse_str((string) parse_url((string) $done['location'], PHP_URL_QUERY), $q);
    $frob = $q['frob'] ?? '';
    check($frob !== '', "[$format] web: the callback carries a frob");
    [$r, $raw] = call($base, $wk, $ws, 'auth.getToken', ['frob' => $frob], $format);
    $token = $format === 'json' ? ($r['auth']['token'] ?? '') : (string) $r->auth->token;
    check($token !== '', "[$format] web: auth.getToken", $raw);
    [$r, $raw] = call($base, $wk, $ws, 'account.get', ['auth_token' => $token], $format);
    $got = $format === 'json' ? ($r['user']['email'] ?? '') : (string) $r->user['email'];
    check($got === $email, "[$format] web: account.get sees the new e-mail", $raw);
    [$r, $raw] = call($base, $wk, $ws, 'auth.getToken', ['frob' => $frob], $format);
    $code = $format === 'json' ? ($r['api']['code'] ?? null) : (string) $r['code'];
    check($code === '2', "[$format] web: a used frob gives 2", $raw);
}

echo "1..$n\n";
echo "# $n checks, $failed failed\n";
exit($failed ? 1 : 0);
