export { adminIds, notifyUsers } from './notify.js';
