// The console's frame: sign-in, then the header with the screens the caller's role may use.
import { useEffect, useState, type FormEvent } from 'react';
import { messageOf } from './api.ts';
import { CatalogProvider, useCatalog } from './catalog.tsx';
import { JobProvider, useJobs } from './jobs.tsx';
import { Link, navigate, useLocation } from './router.tsx';
import { SessionProvider, useSession } from './session.tsx';
import { Admin } from './screens/Admin.tsx';
import { AffinityGroups } from './screens/AffinityGroups.tsx';
import { Deploy } from './screens/Deploy.tsx';
import { Import } from './screens/Import.tsx';
import { InstanceDetail } from './screens/InstanceDetail.tsx';
import { Instances } from './screens/Instances.tsx';
import { Jobs } from './screens/Jobs.tsx';
import { Usage } from './screens/Usage.tsx';
import { Empty, ErrorNote } from './ui.tsx';

export function App() {
  return (
    <SessionProvider
      signedOut={(signIn, note) => <SignIn signIn={signIn} note={note} />}
      signedIn={
        <CatalogProvider>
          <JobProvider>
            <Shell />
          </JobProvider>
        </CatalogProvider>
      }
    />
  );
}

function SignIn({ signIn, note }: { signIn: (key: string) => Promise<void>; note: string | null }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | null>(note);
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await signIn(key.trim());
    } catch (caught) {
      setError(messageOf(caught));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main className="sign-in">
      <form onSubmit={submit} aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">vmledger</h1>
        <p className="muted">Sign in with your API key. It is kept in this tab only, and forgotten when the tab closes.</p>
        <div className="field">
          <label htmlFor="api-key">API key</label>
          <input id="api-key" type="password" autoComplete="off" value={key} onChange={(e) => setKey(e.target.value)} required autoFocus />
        </div>
        <ErrorNote error={error} />
        <button type="submit" className="primary" disabled={busy || key.trim() === ''}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        <p className="hint">
          The root admin's key is printed by <code>npm start</code> the first time and kept in <code>data/admin-api-key</code>.
        </p>
      </form>
    </main>
  );
}

const ROLE_LABELS = { ROOT_ADMIN: 'root admin', DOMAIN_ADMIN: 'domain admin', USER: 'user' } as const;

function Shell() {
  const session = useSession();
  const catalog = useCatalog();
  const { jobs } = useJobs();
  const { path } = useLocation();
  const running = jobs.filter((job) => job.status === 'PENDING').length;
  const segments = path.split('/').filter(Boolean);
  const section = segments[0] ?? '';

  useEffect(() => {
    if (path === '/') navigate('/instances', { replace: true });
  }, [path]);

  let screen;
  if (section === 'instances' && segments[1] === 'new') screen = <Deploy />;
  else if (section === 'instances' && segments[1]) screen = <InstanceDetail id={segments[1]} tab={segments[2] ?? 'overview'} />;
  else if (section === 'instances' || section === '') screen = <Instances />;
  else if (section === 'affinity') screen = <AffinityGroups />;
  else if (section === 'jobs') screen = <Jobs />;
  else if (section === 'usage') screen = <Usage />;
  else if (section === 'admin' && session.isAdmin) screen = <Admin tab={segments[1] ?? ''} />;
  // The import operations are the root admin's (docs/api.md), so is their screen.
  else if (section === 'import' && session.isRootAdmin) screen = <Import tab={segments[1] ?? ''} />;
  else
    screen = (
      <Empty>
        Nothing here. <Link to="/instances">Go to the instances.</Link>
      </Empty>
    );

  const nav: [string, string][] = [
    ['instances', 'Instances'],
    ['affinity', 'Affinity groups'],
    ['jobs', running > 0 ? `Jobs (${running} running)` : 'Jobs'],
    ['usage', 'Usage'],
    ...(session.isRootAdmin ? ([['import', 'Import']] as [string, string][]) : []),
    ...(session.isAdmin ? ([['admin', 'Administration']] as [string, string][]) : []),
  ];

  return (
    <>
      <a href="#main" className="skip">
        Skip to the content
      </a>
      <header className="top">
        <Link to="/instances" className="brand">
          vmledger
        </Link>
        <nav aria-label="Screens">
          {nav.map(([key, label]) => (
            <Link key={key} to={`/${key}`} aria-current={section === key ? 'page' : undefined}>
              {label}
            </Link>
          ))}
        </nav>
        <div className="who">
          <span className="role" data-role={session.role}>
            {session.accountName ? `${session.accountName} · ` : ''}
            {ROLE_LABELS[session.role]}
          </span>
          <button type="button" className="small-button" onClick={session.signOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <ErrorNote error={catalog.error ? `Could not load zones, offerings and templates: ${catalog.error}` : null} />
        {screen}
      </main>
    </>
  );
}
