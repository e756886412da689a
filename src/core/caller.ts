/** Who a request comes from, as far as which images and resumable uploads it may touch. */
export interface Caller {
  /** The name of the caller's key, recorded as the owner of what it uploads; undefined when no key is configured. */
  readonly owner: string | undefined;
  /** May touch every image and upload: an admin key, or anyone when no key is configured. */
  readonly admin: boolean;
}

/** Anyone at all, when no key is configured: every image is everyone's, as before keys had names. */
export const ANYONE: Caller = Object.freeze({ owner: undefined, admin: true });

/** Whether the caller may see and change what `owner` uploaded; an image stored without an owner is an admin's only. */
export function mayTouch(caller: Caller, owner: string | undefined): boolean {
  return caller.admin || (caller.owner !== undefined && caller.owner === owner);
}

/** A request that needs no key and carries none, such as a CORS preflight: it touches nothing. */
export const NOBODY: Caller = Object.freeze({ owner: undefined, admin: false });
