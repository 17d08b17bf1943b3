/** One line for the step summary: which registry, how the login was checked, where it lives. */
import type { LoginResult } from './flow.js';

export function summary(r: LoginResult): string {
  if (!r.loggedIn) return `**registry-login** · \`${r.registry}\`: no credentials for this registry, tools pull anonymously.\n`;
  const how = {
    token: "checked with the registry's token service",
    basic: 'checked with Basic auth',
    open: 'the registry asks for no login',
    unchecked: 'not checked (verify: false)',
  }[r.checked ?? 'unchecked'];
  return `**registry-login** · \`${r.registry}\`: logged in for this job (${how}); removed when the job ends.\n`;
}
