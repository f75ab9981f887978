import { useEffect, useState, type FormEvent } from 'react';
import { api, type Person } from './api.ts';

export function Login({ onLogin }: { onLogin: (p: Person) => void }) {
  const [mode, setMode] = useState<'password' | 'token'>('password');
  const [username, setUsername] = useState('admin');
  const [password, setPassword] = useState('');
  const [token, setToken] = useState('');
  const [error, setError] = useState('');
  const [options, setOptions] = useState({ password: true, oidc: false });

  useEffect(() => {
    fetch('/api/login-options')
      .then((r) => r.json() as Promise<{ password: boolean; oidc: boolean }>)
      .then((o) => {
        setOptions(o);
        if (!o.password) setMode('token');
      })
      .catch(() => undefined);
  }, []);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setError('');
    api
      .login(mode === 'password' ? { username, password } : { token })
      .then(onLogin)
      .catch((err: unknown) => setError(err instanceof Error ? err.message : String(err)));
  };

  return (
    <form className="login card" onSubmit={submit}>
      <h1>Log in to Cairn</h1>
      <div className="tabs">
        {options.password && (
          <button
            type="button"
            className={mode === 'password' ? 'active' : ''}
            onClick={() => setMode('password')}
          >
            Password
          </button>
        )}
        <button type="button" className={mode === 'token' ? 'active' : ''} onClick={() => setMode('token')}>
          Kubernetes token
        </button>
        {options.oidc && (
          <a className="button-like" href="/api/oidc/login">
            Single sign-on
          </a>
        )}
      </div>
      {mode === 'password' ? (
        <>
          <label>
            Username
            <input name="username" value={username} onChange={(e) => setUsername(e.target.value)} />
          </label>
          <label>
            Password
            <input
              name="password"
              type="password"
              autoFocus
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
          </label>
        </>
      ) : (
        <label>
          Bearer token
          <textarea name="token" rows={4} value={token} onChange={(e) => setToken(e.target.value)} />
        </label>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <button type="submit" className="primary">
        Log in
      </button>
    </form>
  );
}
