/** Entry: takes the session the address hands over, if any, and mounts the call page. */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { takeSessionFromFragment } from './session/handoff';
import './styles.css';
import './controls.css';
import './call.css';
import './conversation.css';
import './status.css';

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
// Read once, before anything renders: it also clears the fragment from the address.
const handedOver = takeSessionFromFragment();
createRoot(root).render(
  <StrictMode>
    <App handedOver={handedOver} />
  </StrictMode>,
);
