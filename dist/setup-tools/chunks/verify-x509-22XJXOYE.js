import { createRequire as __hallmarkCreateRequire } from "node:module"; const require = __hallmarkCreateRequire(import.meta.url);
import{c as a,d as b}from"./chunk-TSOR5ERH.js";import"./chunk-RSJZJVO3.js";export{a as signerIdentity,b as verifyKeylessPair};
