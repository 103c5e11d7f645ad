import type { AmpUser } from "@amp/auth";
import { describe, expect, it } from "vitest";
import { TopicAcl, VmOwners } from "../src/index.js";

const user = (id: string): AmpUser => ({ id, anonymous: false, root: false, claims: {} });

describe("TopicAcl: session control topics of registered sessions", () => {
  const sessionOwners = new VmOwners();
  const acl = new TopicAcl({
    appRoles: { can: (_user, app) => app === "notes" },
    vmOwners: new VmOwners(),
    sessionOwners,
  });
  const control = "/org/o/ws/w/app/notes/session/s-1/control";

  it("a registered session's topics are its owner's only; others follow the app's roles", () => {
    expect(acl.allows(user("bob"), "publish", control)).toBe(true);
    sessionOwners.set("s-1", "alice");
    for (const action of ["publish", "subscribe"] as const) {
      expect(acl.allows(user("alice"), action, control)).toBe(true);
      expect(acl.allows(user("bob"), action, control)).toBe(false);
      expect(acl.allows(user("bob"), action, "/org/o/ws/w/app/notes/session/s-2/control")).toBe(true);
      expect(acl.allows(user("bob"), action, "/org/o/ws/w/app/notes/chat")).toBe(true);
    }
    // the owner still needs the app's role
    expect(acl.allows(user("alice"), "publish", control.replace("notes", "other"))).toBe(false);
    expect(acl.allows({ ...user("root"), root: true }, "publish", control)).toBe(true);
    sessionOwners.delete("s-1");
    expect(acl.allows(user("bob"), "publish", control)).toBe(true);
  });
});
