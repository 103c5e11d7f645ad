/**
 * The acting user: the part of `@amp/auth`'s `AmpUser` that access decisions
 * need. Any `AmpUser` is one (structural typing), so this package builds
 * without depending on auth's implementation.
 */
export interface ActingUser {
  /** Login name, the root user's name, or `anon-<id>`. */
  readonly id: string;
  readonly anonymous: boolean;
  readonly root: boolean;
}
