import { render } from 'preact';
import { App } from './app';
import { loadSession } from './session';
import './styles.css';

const root = document.getElementById('app');
if (!root) throw new Error('index.html has no #app element');
// Who is signed in (and the session's CSRF token) before pages that need a user decide anything.
void loadSession();
render(<App />, root);
