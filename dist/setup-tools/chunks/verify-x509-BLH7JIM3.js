import { createRequire as __hallmarkCreateRequire } from "node:module"; const require = __hallmarkCreateRequire(import.meta.url);
import{c as a,d as b}from"./chunk-NFJN3TIB.js";import"./chunk-LD2QUAJ7.js";export{a as signerIdentity,b as verifyKeylessPair};
