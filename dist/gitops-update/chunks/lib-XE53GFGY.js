import { createRequire as __hallmarkCreateRequire } from "node:module"; const require = __hallmarkCreateRequire(import.meta.url);
import{a,b,c,d,e,f,g,h}from"./chunk-5LX4TXRJ.js";import"./chunk-RSJZJVO3.js";export{b as Headers,h as HttpClient,e as HttpClientError,f as HttpClientResponse,a as HttpCodes,c as MediaTypes,d as getProxyUrl,g as isHttps};
