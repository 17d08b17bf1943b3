/** A workflow the rehearsal cannot run (refused before a job starts, or a broken call). */
export class RehearsalError extends Error {}
