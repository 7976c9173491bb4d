import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { randomBytes } from 'node:crypto'
import type { AddressInfo } from 'node:net'

export interface FakeGitHubUser {
  id: number
  login: string
  name: string | null
  emails: Array<{ email: string, primary: boolean, verified: boolean }>
}

/** How the next requests go wrong; `reset()` puts everything back to `ok`. */
export interface FakeBehaviour {
  /** The user presses "Cancel" on the consent page. */
  deny: boolean
  token: 'ok' | 'http_500' | 'bad_json' | 'form' | 'refuse' | 'hang'
  user: 'ok' | 'http_500' | 'bad_json'
  emails: 'ok' | 'http_500'
}

export interface TokenRequest { method: string, accept: string | undefined, contentType: string | undefined, params: URLSearchParams }

/**
 * A tiny GitHub on port 0: the web-flow endpoints and the two API calls Colony makes. It records what it was
 * sent and every secret it handed out, so tests can check that none of them reached a log line.
 */
export class FakeGitHub {
  readonly clientId = 'Iv1.fakeclientid'
  readonly clientSecret = `fake-secret-${randomBytes(12).toString('hex')}`
  url = ''
  /** The account the next authorization logs in as. */
  user: FakeGitHubUser = { id: 1, login: 'octocat', name: 'The Octocat', emails: [] }
  behaviour: FakeBehaviour = FakeGitHub.ok()
  readonly authorizeRequests: URLSearchParams[] = []
  readonly tokenRequests: TokenRequest[] = []
  readonly apiRequests: Array<{ path: string, authorization: string | undefined }> = []
  /** Every code and access token ever issued. */
  readonly secrets: string[] = []
  private readonly codes = new Map<string, { user: FakeGitHubUser, redirectUri: string }>()
  private readonly tokens = new Map<string, FakeGitHubUser>()
  private readonly server: Server
  private hanging = 0
  private hangWaiters: Array<() => void> = []

  private constructor () {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => json(res, 400, { message: String(err) }))
    })
  }

  static async start (): Promise<FakeGitHub> {
    const fake = new FakeGitHub()
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve))
    fake.url = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`
    return fake
  }

  private static ok (): FakeBehaviour {
    return { deny: false, token: 'ok', user: 'ok', emails: 'ok' }
  }

  reset (): void {
    this.behaviour = FakeGitHub.ok()
  }

  /** The `oauth` config section that points Colony here. */
  config (): Record<string, string> {
    return {
      githubClientId: this.clientId,
      githubClientSecret: this.clientSecret,
      githubAuthorizeUrl: `${this.url}/login/oauth/authorize`,
      githubTokenUrl: `${this.url}/login/oauth/access_token`,
      githubApiUrl: this.url,
    }
  }

  /** Resolves once `n` token requests are being held open (behaviour `token: 'hang'`). */
  async hangingRequests (n: number): Promise<void> {
    while (this.hanging < n) await new Promise<void>((resolve) => this.hangWaiters.push(resolve))
  }

  async close (): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()))
    // Held-open and kept-alive connections would keep close() waiting forever.
    this.server.closeAllConnections()
    await closed
  }

  private async handle (req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url)
    if (req.method === 'GET' && url.pathname === '/login/oauth/authorize') return this.authorize(url.searchParams, res)
    if (req.method === 'POST' && url.pathname === '/login/oauth/access_token') return this.accessToken(req, res)
    if (req.method === 'GET' && (url.pathname === '/user' || url.pathname === '/user/emails')) return this.api(url.pathname, req, res)
    json(res, 404, { message: 'Not Found' })
  }

  private authorize (q: URLSearchParams, res: ServerResponse): void {
    this.authorizeRequests.push(q)
    const redirectUri = q.get('redirect_uri')
    if (q.get('client_id') !== this.clientId || redirectUri === null) return json(res, 404, { message: 'unknown application' })
    const back = new URL(redirectUri)
    if (this.behaviour.deny) {
      back.searchParams.set('error', 'access_denied')
      back.searchParams.set('error_description', 'The user has denied your application access.')
    } else {
      const code = `code-${randomBytes(10).toString('hex')}`
      this.secrets.push(code)
      this.codes.set(code, { user: structuredClone(this.user), redirectUri })
      back.searchParams.set('code', code)
    }
    back.searchParams.set('state', q.get('state') ?? '')
    res.writeHead(302, { location: back.href }).end()
  }

  private async accessToken (req: IncomingMessage, res: ServerResponse): Promise<void> {
    const params = new URLSearchParams(await readBody(req))
    this.tokenRequests.push({ method: req.method ?? '', accept: req.headers.accept, contentType: req.headers['content-type'], params })
    switch (this.behaviour.token) {
      case 'http_500': return json(res, 500, { message: 'boom' })
      case 'bad_json': return text(res, 200, 'application/json', '{"access_token": ')
      case 'hang':
        this.hanging++
        for (const wake of this.hangWaiters.splice(0)) wake()
        return
      default:
    }
    const code = params.get('code') ?? ''
    const grant = this.codes.get(code)
    this.codes.delete(code)
    const valid = grant !== undefined && params.get('client_id') === this.clientId && params.get('client_secret') === this.clientSecret &&
      params.get('redirect_uri') === grant.redirectUri
    // GitHub's way: 200 with an error object for a bad, used or expired code.
    if (!valid || this.behaviour.token === 'refuse') return json(res, 200, { error: 'bad_verification_code', error_description: 'The code passed is incorrect or expired.' })
    const token = `gho_${randomBytes(16).toString('hex')}`
    this.secrets.push(token)
    this.tokens.set(token, grant.user)
    if (this.behaviour.token === 'form') return text(res, 200, 'application/x-www-form-urlencoded', `access_token=${token}&scope=read%3Auser&token_type=bearer`)
    json(res, 200, { access_token: token, token_type: 'bearer', scope: 'read:user,user:email' })
  }

  private api (path: string, req: IncomingMessage, res: ServerResponse): void {
    this.apiRequests.push({ path, authorization: req.headers.authorization })
    const user = this.tokens.get(/^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '')
    if (user === undefined) return json(res, 401, { message: 'Bad credentials' })
    const mode = path === '/user' ? this.behaviour.user : this.behaviour.emails
    if (mode === 'http_500') return json(res, 500, { message: 'boom' })
    if (mode === 'bad_json') return text(res, 200, 'application/json', '<html>')
    if (path === '/user') return json(res, 200, { id: user.id, login: user.login, name: user.name, email: null })
    json(res, 200, user.emails.map((e) => ({ ...e, visibility: e.primary ? 'private' : null })))
  }
}

function json (res: ServerResponse, status: number, body: unknown): void {
  text(res, status, 'application/json', JSON.stringify(body))
}

function text (res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type }).end(body)
}

async function readBody (req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}
