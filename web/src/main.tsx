import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiFailure, currentSession, signIn, signOut, useSession, whenSignedOut, type Session } from './api.js';
import { CarePlansPage } from './pages/careplans.js';
import { ConfigPage } from './pages/config.js';
import { DeadLettersPage } from './pages/dead-letters.js';
import { MessagePage } from './pages/message.js';
import { MessagesPage } from './pages/messages.js';
import { NewMembersPage } from './pages/new-members.js';
import { OverviewPage } from './pages/overview.js';
import { RosterPage } from './pages/roster.js';
import { WorklistPage } from './pages/worklist.js';
import './styles.css';

interface NavItem {
  path: string;
  label: string;
}

const OPERATOR_NAV: NavItem[] = [
  { path: 'overview', label: 'Overview' },
  { path: 'messages', label: 'Messages' },
  { path: 'dead-letters', label: 'Dead letters' },
  { path: 'roster', label: 'Roster' },
  { path: 'config', label: 'Configuration' },
];
const CARE_TEAM_NAV: NavItem[] = [
  { path: 'worklist', label: 'Worklist' },
  { path: 'careplans', label: 'Care plans' },
  { path: 'new-members', label: 'New members' },
];

function navFor(session: Session): { title: string; items: NavItem[] }[] {
  if (session.role === 'partner') return [{ title: 'Care team', items: CARE_TEAM_NAV }];
  if (session.role === 'operator') return [{ title: 'Operations', items: OPERATOR_NAV }];
  return [
    { title: 'Operations', items: OPERATOR_NAV },
    { title: 'Care team', items: CARE_TEAM_NAV },
  ];
}

/** The route lives in the hash (#/messages/<id>): message ids only, never a patient's data. */
function useRoute(): string[] {
  const read = () => location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const on = () => setRoute(read());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

function SignIn(props: { onSignedIn: (s: Session) => void }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      props.onSignedIn(await signIn(key));
    } catch (err) {
      setError(err instanceof ApiFailure && err.status === 401 ? 'That API key is not known.' : (err as Error).message);
    } finally {
      setBusy(false);
      setKey('');
    }
  };
  return (
    <main class="signin">
      <form onSubmit={submit} aria-labelledby="signin-title">
        <h1 id="signin-title">carebridge</h1>
        <p>Sign in with your API key.</p>
        <label for="api-key">API key</label>
        <input
          id="api-key"
          name="api-key"
          type="password"
          autoComplete="off"
          value={key}
          onInput={(e) => setKey(e.currentTarget.value)}
          required
          autoFocus
        />
        <button type="submit" disabled={busy || key === ''}>
          Sign in
        </button>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
      </form>
    </main>
  );
}

function Page(props: { session: Session; route: string[] }) {
  const [page, id] = props.route;
  const s = props.session;
  const operator = s.role !== 'partner';
  switch (page) {
    case 'overview':
      if (operator) return <OverviewPage />;
      break;
    case 'messages':
      if (operator) return id ? <MessagePage id={id} session={s} /> : <MessagesPage />;
      break;
    case 'dead-letters':
      if (operator) return <DeadLettersPage session={s} />;
      break;
    case 'roster':
      if (operator) return <RosterPage />;
      break;
    case 'config':
      if (operator) return <ConfigPage />;
      break;
    case 'worklist':
      if (s.role !== 'operator') return <WorklistPage session={s} />;
      break;
    case 'careplans':
      if (s.role !== 'operator') return <CarePlansPage session={s} />;
      break;
    case 'new-members':
      if (s.role !== 'operator') return <NewMembersPage session={s} />;
      break;
  }
  location.hash = operator ? '#/overview' : '#/worklist';
  return null;
}

function App() {
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const route = useRoute();
  useEffect(() => {
    whenSignedOut(() => setSession(null));
    currentSession().then(setSession, () => setSession(null));
  }, []);
  useSession(session ?? null);
  // Keyboard and screen-reader users land on the new page's title.
  useEffect(() => {
    document.getElementById('page-title')?.focus({ preventScroll: true });
  }, [route.join('/')]);

  if (session === undefined) return <p class="loading">Loading…</p>;
  if (session === null) return <SignIn onSignedIn={setSession} />;
  const current = route[0] ?? '';
  const out = async () => {
    await signOut().catch(() => undefined);
    setSession(null);
    location.hash = '';
  };
  return (
    <div class="shell">
      <a class="skip" href="#main" onClick={(e) => (e.preventDefault(), document.getElementById('main')?.focus())}>
        Skip to content
      </a>
      <nav class="sidebar" aria-label="console">
        <div class="brand">carebridge</div>
        {navFor(session).map((group) => (
          <div class="nav-group" key={group.title}>
            <div class="nav-title">{group.title}</div>
            <ul>
              {group.items.map((item) => (
                <li key={item.path}>
                  <a href={`#/${item.path}`} aria-current={current === item.path ? 'page' : undefined}>
                    {item.label}
                  </a>
                </li>
              ))}
            </ul>
          </div>
        ))}
        <div class="whoami">
          <span title="API key id">{session.keyId}</span>
          <span class="role">{session.role}</span>
          <button type="button" class="signout" onClick={out}>
            Sign out
          </button>
        </div>
      </nav>
      <main id="main" tabIndex={-1}>
        <Page session={session} route={route} />
      </main>
    </div>
  );
}

render(<App />, document.getElementById('app')!);
