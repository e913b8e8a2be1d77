// Pause / Resume / Run now and the admin token prompt. The token lives in sessionStorage (as long
// as the tab, never in a URL) and is forgotten as soon as the service rejects it.
import { postControl } from './api.js';
import { $ } from './dom.js';
import { errorText } from './format.js';

const TOKEN_KEY = 'inventory-sync.admin-token';

const ACTIONS = {
  pause: { path: 'pause', label: 'Pause', done: 'Sync paused.' },
  resume: { path: 'resume', label: 'Resume', done: 'Sync resumed.' },
  run: { path: 'run', label: 'Run now', done: 'Run started.' },
};

let pendingAction = null;
// From GET /status: a demo without ADMIN_TOKEN has open controls, so the page asks for nothing.
let tokenRequired = true;

/** False when GET /status said the control API is open (a demo without ADMIN_TOKEN). */
export const adminTokenRequired = () => tokenRequired;

/** The admin token the operator entered in this tab ('' when none). */
export const storedToken = () => sessionStorage.getItem(TOKEN_KEY) || '';

export function showMessage(text, kind) {
  const box = $('action-message');
  box.textContent = text;
  box.className = `message message-${kind}`;
  box.hidden = false;
}

function setTokenError(text) {
  $('token-error').textContent = text;
  $('token-error').hidden = !text;
  if (text) $('token-input').setAttribute('aria-invalid', 'true');
  else $('token-input').removeAttribute('aria-invalid');
}

function openTokenForm(action) {
  pendingAction = action || null;
  setTokenError('');
  $('token-form').hidden = false;
  $('token-input').value = '';
  $('token-input').focus();
}

function closeTokenForm() {
  $('token-form').hidden = true;
  setTokenError('');
  pendingAction = null;
}

function doneText(name, body, json) {
  if (name !== 'run') return ACTIONS[name].done;
  const id = json && json.runId !== undefined ? ` #${json.runId}` : '';
  return json && json.alreadyRunning
    ? `The ${body.window} window is already running (run${id}).`
    : `Run${id} started for the ${body.window} window.`;
}

async function control(name, refresh) {
  const token = tokenRequired ? storedToken() : '';
  if (tokenRequired && !token) {
    openTokenForm(name);
    return;
  }
  const action = ACTIONS[name];
  const body = name === 'run' ? { window: $('run-window').value } : { reason: 'operator page' };
  let res;
  try {
    res = await postControl(action.path, body, token);
  } catch (err) {
    showMessage(`${action.label} failed: the service did not answer (${err.message}).`, 'error');
    return;
  }
  if (res.status === 401 || res.status === 403) {
    // A wrong token is forgotten so the next click asks again instead of failing silently.
    sessionStorage.removeItem(TOKEN_KEY);
    showMessage(
      `${action.label} refused — the admin token was rejected (${errorText(res.status, res.body)}). ` +
        'Nothing was changed. Enter the correct token to try again.',
      'error',
    );
    openTokenForm(null);
    return;
  }
  if (!res.ok) {
    showMessage(`${action.label} failed: ${errorText(res.status, res.body)}`, 'error');
    return;
  }
  showMessage(doneText(name, body, res.body), 'ok');
  await refresh();
}

/** Wires the buttons and the token form; `refresh` reloads the page's data after an action. */
export function wireControls(refresh) {
  $('pause-btn').addEventListener('click', () => void control('pause', refresh));
  $('resume-btn').addEventListener('click', () => void control('resume', refresh));
  $('run-btn').addEventListener('click', () => void control('run', refresh));
  $('token-btn').addEventListener('click', () => openTokenForm(null));
  $('token-cancel').addEventListener('click', closeTokenForm);
  $('token-forget').addEventListener('click', () => {
    sessionStorage.removeItem(TOKEN_KEY);
    closeTokenForm();
    showMessage('Admin token forgotten.', 'ok');
  });
  $('token-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const value = $('token-input').value.trim();
    if (!value) {
      setTokenError('Enter the admin token (the ADMIN_TOKEN the service was started with).');
      $('token-input').focus();
      return;
    }
    sessionStorage.setItem(TOKEN_KEY, value);
    const next = pendingAction;
    closeTokenForm();
    if (next) void control(next, refresh);
    else showMessage('Admin token set for this tab.', 'ok');
  });
}

/** The buttons as the status allows: token prompt or open controls, pause xor resume. */
export function renderControls(status) {
  tokenRequired = !status.control || status.control.tokenRequired !== false;
  $('token-btn').hidden = !tokenRequired;
  $('control-note').hidden = tokenRequired;
  $('control-note').textContent = tokenRequired
    ? ''
    : 'Controls are open: no admin token is configured (demo).';
  $('pause-btn').disabled = status.paused;
  $('resume-btn').disabled = !status.paused;
}
