import { createApp } from './app.js';

/** The deployed Worker. */
export default createApp();
