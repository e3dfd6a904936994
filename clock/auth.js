// Personal mode's sign-in: Cognito's JSON API (InitiateAuth, RespondToAuthChallenge) called directly.
// The ID token goes to the Ponto API as a Bearer token; the API validates it. Its claims are decoded
// here only to show who is signed in and to fill employee_id (custom:employee_id).

export class AuthError extends Error {
  constructor(kind, message) {
    super(message);
    this.kind = kind; // "network" | "refused"
  }
}

async function call(cognito, target, payload) {
  let response;
  try {
    response = await fetch(`${cognito.endpoint}/`, {
      method: "POST",
      headers: {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": `AWSCognitoIdentityProviderService.${target}`,
      },
      body: JSON.stringify(payload),
      cache: "no-store",
      credentials: "omit",
    });
  } catch (error) {
    throw new AuthError("network", String(error));
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new AuthError("refused", body.message || body.__type || `HTTP ${response.status}`);
  return body;
}

/** The JWT's payload (not verified: display and employee_id only; the API verifies the token). */
export function claims(token) {
  try {
    const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const padded = payload + "=".repeat((4 - (payload.length % 4)) % 4);
    const bytes = Uint8Array.from(atob(padded), (char) => char.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return {};
  }
}

function signedIn(result, username, refreshToken) {
  const idToken = result.IdToken;
  const claim = claims(idToken);
  return {
    username,
    id_token: idToken,
    refresh_token: result.RefreshToken ?? refreshToken ?? null,
    expires_at: claim.exp ? claim.exp * 1000 : Date.now() + (result.ExpiresIn ?? 3600) * 1000,
    employee_id: claim["custom:employee_id"] ?? null,
    name: claim.name ?? claim.email ?? username,
  };
}

/** {auth} when signed in, or {challenge: "NEW_PASSWORD_REQUIRED", session} on a first sign-in. */
export async function signIn(cognito, username, password) {
  const body = await call(cognito, "InitiateAuth", {
    AuthFlow: "USER_PASSWORD_AUTH",
    ClientId: cognito.client_id,
    AuthParameters: { USERNAME: username, PASSWORD: password },
  });
  if (body.AuthenticationResult) return { auth: signedIn(body.AuthenticationResult, username) };
  if (body.ChallengeName === "NEW_PASSWORD_REQUIRED") return { challenge: body.ChallengeName, session: body.Session };
  throw new AuthError("refused", body.ChallengeName || "unexpected answer");
}

export async function setNewPassword(cognito, username, newPassword, session) {
  const body = await call(cognito, "RespondToAuthChallenge", {
    ChallengeName: "NEW_PASSWORD_REQUIRED",
    ClientId: cognito.client_id,
    Session: session,
    ChallengeResponses: { USERNAME: username, NEW_PASSWORD: newPassword },
  });
  if (!body.AuthenticationResult) throw new AuthError("refused", body.ChallengeName || "unexpected answer");
  return signedIn(body.AuthenticationResult, username);
}

/** New tokens from the refresh token (Cognito keeps the refresh token itself). */
export async function refresh(cognito, auth) {
  const body = await call(cognito, "InitiateAuth", {
    AuthFlow: "REFRESH_TOKEN_AUTH",
    ClientId: cognito.client_id,
    AuthParameters: { REFRESH_TOKEN: auth.refresh_token },
  });
  if (!body.AuthenticationResult) throw new AuthError("refused", "no tokens");
  return signedIn(body.AuthenticationResult, auth.username, auth.refresh_token);
}
