// A relying party built on openid-client (panva), in two steps around the person's sign-in.
//
//   node rp.mjs start  ISSUER CLIENT_ID CLIENT_SECRET REDIRECT_URI
//     prints {authorization_url, redirect_uri, code_verifier, state, nonce}
//   node rp.mjs finish ISSUER CLIENT_ID CLIENT_SECRET CALLBACK_URL POST_LOGOUT_REDIRECT_URI
//     reads what `start` printed on stdin; prints the validated ID token claims, the userinfo,
//     the refreshed tokens' claims, how the IdP answered the spent refresh token, and the
//     end-session URL.
//
// Every check (state, iss, PKCE, nonce, ID token signature and claims) is the library's own.
import * as client from 'openid-client'

const SCOPE = 'openid profile email moc offline_access'

/** Discovery, with http allowed: the tests' issuer is on loopback. */
async function configure(issuer, clientId, clientSecret) {
  return client.discovery(
    new URL(issuer),
    clientId,
    undefined,
    client.ClientSecretBasic(clientSecret),
    { execute: [client.allowInsecureRequests] },
  )
}

/** The authorization URL (code flow, PKCE S256, state, nonce) and the values to keep. */
async function start(config, redirectUri) {
  const codeVerifier = client.randomPKCECodeVerifier()
  const state = client.randomState()
  const nonce = client.randomNonce()
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: SCOPE,
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  })
  return { authorization_url: url.href, redirect_uri: redirectUri, code_verifier: codeVerifier, state, nonce }
}

/** How the token endpoint answers a refresh token that was already used. */
async function spentRefreshTokenAnswer(config, refreshToken) {
  try {
    await client.refreshTokenGrant(config, refreshToken)
    return { error: null }
  } catch (error) {
    if (!(error instanceof client.ResponseBodyError)) throw error
    return { error: error.error, status: error.status }
  }
}

/** Redeem the code, then userinfo, refresh, and the end-session URL. */
async function finish(config, pending, callbackUrl, postLogoutRedirectUri) {
  const tokens = await client.authorizationCodeGrant(config, new URL(callbackUrl), {
    pkceCodeVerifier: pending.code_verifier,
    expectedState: pending.state,
    expectedNonce: pending.nonce,
    idTokenExpected: true,
  })
  const claims = tokens.claims()
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub)
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token)
  const refreshedUserinfo = await client.fetchUserInfo(config, refreshed.access_token, claims.sub)
  const spent = await spentRefreshTokenAnswer(config, tokens.refresh_token)
  const logoutState = client.randomState()
  const endSessionUrl = client.buildEndSessionUrl(config, {
    id_token_hint: refreshed.id_token,
    post_logout_redirect_uri: postLogoutRedirectUri,
    state: logoutState,
  })
  return {
    claims,
    scope: tokens.scope,
    userinfo,
    refreshed: {
      claims: refreshed.claims(),
      refresh_token_rotated: Boolean(refreshed.refresh_token) && refreshed.refresh_token !== tokens.refresh_token,
      userinfo: refreshedUserinfo,
    },
    spent_refresh_token: spent,
    end_session_url: endSessionUrl.href,
    logout_state: logoutState,
  }
}

async function readStdin() {
  let text = ''
  for await (const chunk of process.stdin) text += chunk
  return JSON.parse(text)
}

async function main([step, issuer, clientId, clientSecret, ...rest]) {
  const config = await configure(issuer, clientId, clientSecret)
  if (step === 'start') return start(config, rest[0])
  if (step === 'finish') return finish(config, await readStdin(), rest[0], rest[1])
  throw new Error(`unknown step ${step}: use start or finish`)
}

try {
  process.stdout.write(JSON.stringify(await main(process.argv.slice(2))) + '\n')
} catch (error) {
  process.stderr.write(`${error.name}: ${error.message} ${JSON.stringify(error.cause ?? {})}\n`)
  process.exitCode = 1
}
