import { useEffect, useState } from 'react';
import { api, ApiError, rememberCsrf, type Person } from './api.ts';
import { AppList } from './AppList.tsx';
import { AppPage } from './AppPage.tsx';
import { Login } from './Login.tsx';
import { navigate, useRoute } from './route.ts';

type Theme = 'light' | 'dark';

function initialTheme(): Theme {
  const saved = localStorage.getItem('cairn-theme');
  if (saved === 'light' || saved === 'dark') return saved;
  return matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

export function App() {
  const route = useRoute();
  const [person, setPerson] = useState<Person | null | undefined>(undefined);
  const [theme, setTheme] = useState<Theme>(initialTheme);

  useEffect(() => {
    document.documentElement.dataset.theme = theme;
    localStorage.setItem('cairn-theme', theme);
  }, [theme]);

  useEffect(() => {
    api
      .session()
      .then((p) => {
        rememberCsrf(p.csrf);
        setPerson(p);
      })
      .catch((e: unknown) => {
        if (e instanceof ApiError && e.status === 401) setPerson(null);
        else throw e;
      });
  }, []);

  const loggedIn = (p: Person) => {
    rememberCsrf(p.csrf);
    setPerson(p);
  };
  const logout = async () => {
    await api.logout();
    rememberCsrf(null);
    setPerson(null);
    navigate('/');
  };

  const m = /^\/apps\/([^/]+)\/([^/]+)\/?$/.exec(route.path);
  return (
    <div className="shell">
      <header className="topbar">
        <a
          className="brand"
          href="/"
          onClick={(e) => {
            e.preventDefault();
            navigate('/');
          }}
        >
          Cairn
        </a>
        <span className="spacer" />
        <button
          type="button"
          className="ghost"
          data-testid="theme"
          onClick={() => setTheme(theme === 'dark' ? 'light' : 'dark')}
        >
          {theme === 'dark' ? 'Light theme' : 'Dark theme'}
        </button>
        {person && (
          <>
            <span className="who" data-testid="user" title={person.groups.join(', ')}>
              {person.user}
            </span>
            <button type="button" className="ghost" onClick={() => void logout()}>
              Log out
            </button>
          </>
        )}
      </header>
      <main>
        {person === undefined ? (
          <p className="muted">Loading…</p>
        ) : person === null ? (
          <Login onLogin={loggedIn} />
        ) : m ? (
          <AppPage
            namespace={decodeURIComponent(m[1]!)}
            name={decodeURIComponent(m[2]!)}
            tab={route.query.get('tab') ?? 'tree'}
          />
        ) : (
          <AppList query={route.query} />
        )}
      </main>
    </div>
  );
}
